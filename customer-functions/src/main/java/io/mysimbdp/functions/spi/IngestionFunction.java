package io.mysimbdp.functions.spi;

import java.util.List;
import java.util.Map;

/**
 * A tenant's ingestion function: one record in, zero or more records out.
 *
 * <p>A record is a JSON object as plain Java values: {@code Map<String, Object>} whose values are
 * {@code String}, {@code Number}, {@code Boolean}, {@code null}, {@code List} or {@code Map}, or an
 * opaque {@link io.mysimbdp.functions.sealed.SealedValue} (a field the tenant sealed: carry, copy or
 * drop it; it cannot be read). Returning
 * an empty list filters the record out; returning several splits it. Implementations must be
 * stateless and thread-safe: the platform calls one instance from many pipelines at once.
 *
 * <p>Throw {@link FunctionException} for a record the function rejects; the platform sends that
 * record to the tenant's dead-letter store with the message and goes on with the next one.
 */
@FunctionalInterface
public interface IngestionFunction {

  List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException;
}
