package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.builtin.CoerceFunction.Empty;
import io.mysimbdp.functions.builtin.CoerceFunction.OnError;
import io.mysimbdp.functions.builtin.CoerceFunction.Type;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

/**
 * The seed's first example customer: Alice stores water-quality measurements normalized. A
 * composition of three built-ins (see docs/functions.md for the output shape):
 *
 * <ol>
 *   <li>rename: keep only the 17 known columns ({@link #COLUMNS});
 *   <li>coerce: {@code result} → number, {@code sample.sampleDateTime} → canonical timestamp
 *       (zone-less times read as UTC unless configured), {@code sample.isComplianceSample} →
 *       boolean, easting and northing → integer; empty strings dropped;
 *   <li>nest: dotted names → nested objects, a value that is also a prefix under {@code "@id"}
 *       (the sampling point's URI becomes {@code sample.samplingPoint["@id"]}).
 * </ol>
 *
 * Config: {@code {"zone": "UTC"}}. The same transform, as uploaded JSONata, is
 * {@code src/main/resources/examples/alice.jsonata}.
 */
public final class AliceFunction implements IngestionFunction {
  public static final String NAME = "alice";

  /** The columns of the water-quality archive export, in file order. */
  public static final List<String> COLUMNS =
      List.of(
          "@id",
          "sample.samplingPoint",
          "sample.samplingPoint.notation",
          "sample.samplingPoint.label",
          "sample.sampleDateTime",
          "determinand.label",
          "determinand.definition",
          "determinand.notation",
          "resultQualifier.notation",
          "result",
          "codedResultInterpretation.interpretation",
          "determinand.unit.label",
          "sample.sampledMaterialType.label",
          "sample.isComplianceSample",
          "sample.purpose.label",
          "sample.samplingPoint.easting",
          "sample.samplingPoint.northing");

  /** The typed columns. */
  public static final Map<String, Type> TYPES =
      Map.of(
          "result", Type.NUMBER,
          "sample.sampleDateTime", Type.TIMESTAMP,
          "sample.isComplianceSample", Type.BOOLEAN,
          "sample.samplingPoint.easting", Type.INTEGER,
          "sample.samplingPoint.northing", Type.INTEGER);

  private final PipelineFunction pipeline;

  public AliceFunction(ZoneId zone) {
    this.pipeline =
        new PipelineFunction(
            List.of(
                new RenameFunction(null, null, COLUMNS, null),
                typed(zone),
                new NestFunction(".", "@id")),
            List.of(RenameFunction.NAME, CoerceFunction.NAME, NestFunction.NAME));
  }

  /** The coercion Alice (and Bob) apply to the water-quality columns. */
  static CoerceFunction typed(ZoneId zone) {
    return new CoerceFunction(TYPES, Empty.DROP, OnError.FAIL, zone);
  }

  public static AliceFunction withDefaults() {
    return new AliceFunction(ZoneOffset.UTC);
  }

  public static AliceFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("zone");
    try {
      return new AliceFunction(ZoneId.of(config.string("zone", "UTC")));
    } catch (DateTimeException e) {
      throw config.error("zone", "is not a time zone: " + e.getMessage());
    }
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    try {
      return pipeline.apply(record, context);
    } catch (FunctionException e) {
      throw new FunctionException("alice: " + e.getMessage(), e);
    }
  }
}
