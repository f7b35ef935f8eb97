package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.List;
import java.util.Map;

/** Stores each record as it came. The default when a category maps to no function. */
public final class IdentityFunction implements IngestionFunction {
  public static final String NAME = "identity";
  public static final IdentityFunction INSTANCE = new IdentityFunction();

  private IdentityFunction() {}

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context) {
    return List.of(record);
  }
}
