package io.mysimbdp.functions.spi;

import java.util.Objects;

/**
 * Where a record comes from.
 *
 * @param tenant the tenant whose data this is
 * @param category the data's category, which chose the function
 * @param source the staged file id (batch) or the message id (stream)
 * @param position the record's index within its file (0-based), or 0 for a message
 */
public record FunctionContext(String tenant, String category, String source, long position) {
  public FunctionContext {
    Objects.requireNonNull(tenant, "tenant");
    Objects.requireNonNull(category, "category");
    Objects.requireNonNull(source, "source");
  }
}
