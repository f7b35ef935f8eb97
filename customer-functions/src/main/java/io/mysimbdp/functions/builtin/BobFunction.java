package io.mysimbdp.functions.builtin;

import io.mysimbdp.functions.Records;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.time.DateTimeException;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The seed's second example customer: Bob keeps only compliance samples and raises alerts.
 *
 * <p>For a record whose {@code sample.isComplianceSample} is true it emits the measurement, typed
 * like Alice's but kept flat, with dots in names replaced by {@code _} and {@code "type":
 * "measurement"} first; and, when the result is over the threshold for its determinand (and not
 * qualified as "&lt;", below the limit of detection), an alert record:
 *
 * <pre>{@code
 * {"type": "alert", "measurement": "<@id of the measurement>", "determinand": "BOD ATU",
 *  "result": 30, "unit": "mg/l", "threshold": 25, "samplingPoint": "AN-011396",
 *  "sampleDateTime": "2019-01-24T12:58:00.000Z"}
 * }</pre>
 *
 * Other records produce nothing. Config: {@code {"thresholds": {"BOD ATU": 25, ...}, "zone":
 * "UTC"}}; thresholds are keyed by {@code determinand.label}, in the determinand's unit, and
 * replace the defaults ({@link #DEFAULT_THRESHOLDS}: effluent limits of the Urban Waste Water
 * Treatment Directive, 91/271/EEC Annex I, plus a typical ammonia permit limit). The same function
 * as uploaded JSONata is {@code src/main/resources/examples/bob.jsonata}.
 */
public final class BobFunction implements IngestionFunction {
  public static final String NAME = "bob";

  /** mg/l: BOD 25, suspended solids 35, COD 125, total phosphorus 2 (UWWTD); ammonia 5. */
  public static final Map<String, Number> DEFAULT_THRESHOLDS = defaults();

  private static Map<String, Number> defaults() {
    Map<String, Number> t = new LinkedHashMap<>();
    t.put("BOD ATU", 25L);
    t.put("Sld Sus@105C", 35L);
    t.put("COD as O2", 125L);
    t.put("Ammonia(N)", 5L);
    t.put("Phosphorus-P", 2L);
    return java.util.Collections.unmodifiableMap(t);
  }

  private final Map<String, Number> thresholds;
  private final RenameFunction known = new RenameFunction(null, null, AliceFunction.COLUMNS, null);
  private final CoerceFunction typed;

  public BobFunction(Map<String, ? extends Number> thresholds, ZoneId zone) {
    Map<String, Number> t = new LinkedHashMap<>();
    thresholds.forEach((k, v) -> t.put(k, Records.canonicalNumber(v)));
    this.thresholds = java.util.Collections.unmodifiableMap(t);
    this.typed = AliceFunction.typed(zone);
  }

  public static BobFunction withDefaults() {
    return new BobFunction(DEFAULT_THRESHOLDS, ZoneOffset.UTC);
  }

  public static BobFunction fromConfig(Config config) throws CompileException {
    config.allowOnly("thresholds", "zone");
    Map<String, Number> thresholds = config.numberMap("thresholds");
    ZoneId zone;
    try {
      zone = ZoneId.of(config.string("zone", "UTC"));
    } catch (DateTimeException e) {
      throw config.error("zone", "is not a time zone: " + e.getMessage());
    }
    return new BobFunction(thresholds == null ? DEFAULT_THRESHOLDS : thresholds, zone);
  }

  public Map<String, Number> thresholds() {
    return thresholds;
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    Map<String, Object> m;
    try {
      m = typed.coerce(known.apply(record, context).get(0));
    } catch (FunctionException e) {
      throw new FunctionException("bob: " + e.getMessage(), e);
    }
    if (!Boolean.TRUE.equals(m.get("sample.isComplianceSample"))) {
      return List.of();
    }
    Map<String, Object> measurement = new LinkedHashMap<>(m.size() * 2 + 2);
    measurement.put("type", "measurement");
    for (Map.Entry<String, Object> e : m.entrySet()) {
      measurement.put(e.getKey().replace('.', '_'), e.getValue());
    }
    Map<String, Object> alert = alert(m);
    return alert == null ? List.of(measurement) : List.of(measurement, alert);
  }

  private Map<String, Object> alert(Map<String, Object> m) {
    Number limit = thresholds.get(m.get("determinand.label"));
    Object result = m.get("result");
    if (limit == null
        || !(result instanceof Number)
        || ((Number) result).doubleValue() <= limit.doubleValue()
        || "<".equals(m.get("resultQualifier.notation"))) {
      return null;
    }
    Map<String, Object> alert = new LinkedHashMap<>(16);
    alert.put("type", "alert");
    putIfPresent(alert, "measurement", m.get("@id"));
    putIfPresent(alert, "determinand", m.get("determinand.label"));
    alert.put("result", result);
    putIfPresent(alert, "unit", m.get("determinand.unit.label"));
    alert.put("threshold", limit);
    putIfPresent(alert, "samplingPoint", m.get("sample.samplingPoint.notation"));
    putIfPresent(alert, "sampleDateTime", m.get("sample.sampleDateTime"));
    return alert;
  }

  private static void putIfPresent(Map<String, Object> map, String key, Object value) {
    if (value != null) {
      map.put(key, value);
    }
  }
}
