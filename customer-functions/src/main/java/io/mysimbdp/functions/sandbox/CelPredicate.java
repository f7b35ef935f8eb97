package io.mysimbdp.functions.sandbox;

import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelErrorCode;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelValidationResult;
import dev.cel.common.ast.CelConstant;
import dev.cel.common.ast.CelExpr;
import dev.cel.common.types.MapType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.values.NullValue;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import io.mysimbdp.functions.Records;
import io.mysimbdp.functions.sealed.SealedFields;
import io.mysimbdp.functions.sealed.SealedValue;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A tenant-uploaded predicate in CEL (Common Expression Language), over {@code record} (the record,
 * a {@code map(string, dyn)}) and {@code context} ({@code tenant, category, source, position}).
 * Used by filter functions and quality rules, e.g. {@code double(record.result) <= 100.0} or
 * {@code record['sample.isComplianceSample'] == 'true'}.
 *
 * <p>Why it is safe: CEL has no loops or recursion (only macros over existing lists and maps,
 * bounded here by an iteration budget for the whole evaluation), no I/O, no access to Java classes
 * (only the standard function library is registered, no custom functions, no message types), and
 * its {@code matches()} runs RE2 (re2j), which is linear in the input. That bounds the number of
 * steps, not what they cost: a 4,096-leaf string concatenation inside {@code all()} fits the
 * source limit and builds gigabytes. So every evaluation is also watched as the JSONata functions
 * are ({@link SandboxLimits}): after each subexpression, the size of its value (strings, bytes,
 * lists, maps; the values produced in total), and every 16th the thread's CPU time (100 ms) and
 * the bytes it allocated (16 MiB), with the wall clock only as a backstop ({@link #watchLimits}). A bound hit ends the evaluation as an ERROR
 * outcome with {@link Outcome#limit()} set; callers count those (a quality rule or a filter that
 * keeps hitting them is disabled).
 *
 * <p>Thread-safe: a CEL {@link Program} is immutable.
 */
public final class CelPredicate {
  public static final String LANGUAGE = "cel";

  private static final Map<SandboxLimits, Cel> ENVIRONMENTS = new ConcurrentHashMap<>();

  /** How one evaluation went. */
  public enum Status {
    PASS,
    FAIL,
    ERROR
  }

  /**
   * @param status PASS (true), FAIL (false) or ERROR (could not be evaluated)
   * @param reason for ERROR: "missing field x", or the evaluation error; null otherwise
   */
  public record Outcome(Status status, String reason, LimitExceededException.Limit limit) {
    static final Outcome PASS = new Outcome(Status.PASS, null);
    static final Outcome FAIL = new Outcome(Status.FAIL, null);

    public Outcome(Status status, String reason) {
      this(status, reason, null);
    }

    /** Whether the evaluation was stopped by one of the sandbox's bounds. */
    public boolean boundViolated() {
      return limit != null;
    }

    public boolean passed() {
      return status == Status.PASS;
    }
  }

  private final String source;
  private final CelRuntime.Program program;
  private final List<List<String>> fieldPaths;
  private final SandboxLimits limits;
  /**
   * The limits the evaluation is watched under: the wall clock only as a backstop ten times the
   * functions' (a predicate never waits, so its CPU time is what it costs; a tight wall clock would
   * make quality counts, and a rule's disabling, depend on how loaded the machine is).
   */
  private final SandboxLimits watchLimits;

  private CelPredicate(
      String source, CelRuntime.Program program, List<List<String>> fieldPaths, SandboxLimits limits) {
    this.source = source;
    this.program = program;
    this.fieldPaths = fieldPaths;
    this.limits = limits;
    this.watchLimits = limits.withWallClockTimeout(limits.wallClockTimeout().multipliedBy(JsonataMonitor.HARD_CEILING_FACTOR));
  }

  /**
   * Compiles and type-checks {@code source}, which must be a boolean expression.
   *
   * @throws CompileException with line and column of the first error
   */
  public static CelPredicate compile(String source, SandboxLimits limits) throws CompileException {
    if (source == null || source.isBlank()) {
      throw CompileException.of(LANGUAGE, "the source is empty");
    }
    if (source.length() > limits.maxSourceLength()) {
      throw CompileException.of(
          LANGUAGE,
          "the source has " + source.length() + " characters, more than " + limits.maxSourceLength());
    }
    Cel cel = ENVIRONMENTS.computeIfAbsent(limits, CelPredicate::environment);
    CelValidationResult result;
    try {
      result = cel.compile(source);
    } catch (RuntimeException e) {
      throw CompileException.of(LANGUAGE, "the compiler failed: " + e.getMessage());
    }
    if (result.hasError()) {
      CelIssue issue = result.getErrors().get(0);
      int line = issue.getSourceLocation().getLine();
      int column = issue.getSourceLocation().getColumn();
      throw CompileException.at(LANGUAGE, source, offsetOf(source, line, column), issue.getMessage());
    }
    try {
      CelAbstractSyntaxTree ast = result.getAst();
      if (!ast.getResultType().equals(SimpleType.BOOL) && !ast.getResultType().equals(SimpleType.DYN)) {
        throw CompileException.of(
            LANGUAGE, "a predicate must be a boolean expression, not " + ast.getResultType().name());
      }
      List<List<String>> paths = new ArrayList<>();
      collectPaths(ast.getExpr(), paths);
      return new CelPredicate(source, cel.createProgram(ast), List.copyOf(paths), limits);
    } catch (dev.cel.common.CelValidationException e) {
      throw CompileException.of(LANGUAGE, e.getMessage());
    } catch (CelEvaluationException e) {
      throw CompileException.of(LANGUAGE, e.getMessage());
    }
  }

  private static Cel environment(SandboxLimits limits) {
    CelOptions options =
        CelOptions.current()
            .enableHeterogeneousNumericComparisons(true)
            .comprehensionMaxIterations(limits.celMaxIterations())
            .maxExpressionCodePointSize(limits.maxSourceLength())
            .maxRegexProgramSize(1_000)
            .build();
    return CelFactory.standardCelBuilder()
        .setOptions(options)
        .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
        .addVar("record", MapType.create(SimpleType.STRING, SimpleType.DYN))
        .addVar("context", MapType.create(SimpleType.STRING, SimpleType.DYN))
        .setResultType(SimpleType.BOOL)
        .build();
  }

  public String source() {
    return source;
  }

  /** Evaluates against a record; never throws (errors are an ERROR outcome). */
  public Outcome evaluate(Map<String, Object> record) {
    return evaluate(record, null);
  }

  /** Evaluates against a record and its context (may be null); never throws. */
  public Outcome evaluate(Map<String, Object> record, FunctionContext context) {
    SealedValue sealed = SealedFields.sealedAt(record, fieldPaths);
    if (sealed != null) {
      return new Outcome(Status.ERROR, sealed.misuse("a CEL predicate").getMessage());
    }
    Map<String, Object> input;
    try {
      input = CelValues.prepare(record);
    } catch (IllegalArgumentException e) {
      return new Outcome(Status.ERROR, "the record is not JSON: " + e.getMessage());
    }
    Map<String, Object> variables = new LinkedHashMap<>(4);
    variables.put("record", input);
    variables.put("context", contextValue(context));
    JsonataMonitor monitor = new JsonataMonitor(watchLimits);
    monitor.input(input);
    Object value;
    try {
      value = program.trace(variables, (expr, result) -> watch(monitor, result));
      monitor.checkClockAndMemory();
    } catch (CelEvaluationException e) {
      return violated(monitor).orElseGet(() -> new Outcome(Status.ERROR, explain(e, record)));
    } catch (RuntimeException e) {
      return violated(monitor).orElseGet(() -> new Outcome(Status.ERROR, "evaluation failed: " + e.getMessage()));
    }
    if (value instanceof Boolean) {
      return (Boolean) value ? Outcome.PASS : Outcome.FAIL;
    }
    return new Outcome(
        Status.ERROR, "the predicate returned " + Records.describeType(value) + ", not a boolean");
  }

  /** One subexpression evaluated: its value's size now, the clock and allocation every 16th. */
  private static void watch(JsonataMonitor monitor, Object result) {
    monitor.enter();
    if (result instanceof com.google.protobuf.ByteString bytes && bytes.size() > monitor.limitsMaxString()) {
      throw monitor.violate(LimitExceededException.Limit.MEMORY, "memory limit: bytes of " + bytes.size() + ", more than " + monitor.limitsMaxString());
    }
    monitor.exit(result);
  }

  /** The bound the evaluation hit (the monitor keeps it, whatever CEL wrapped it in). */
  private static java.util.Optional<Outcome> violated(JsonataMonitor monitor) {
    LimitViolation violation = monitor.violation();
    return violation == null
        ? java.util.Optional.empty()
        : java.util.Optional.of(new Outcome(Status.ERROR, violation.getMessage(), violation.toFunctionException().limit()));
  }

  /**
   * True or false, or a {@link FunctionException} with the reason it could not be evaluated (a
   * {@link LimitExceededException} for a bound, which {@link GuardedFunction} counts as such).
   */
  public boolean test(Map<String, Object> record, FunctionContext context) throws FunctionException {
    Outcome outcome = evaluate(record, context);
    if (outcome.boundViolated()) {
      throw new LimitExceededException(outcome.limit(), "CEL predicate " + outcome.reason());
    }
    if (outcome.status() == Status.ERROR) {
      throw new FunctionException("CEL predicate " + outcome.reason());
    }
    return outcome.passed();
  }

  private String explain(CelEvaluationException e, Map<String, Object> record) {
    if (e.getErrorCode() == CelErrorCode.ATTRIBUTE_NOT_FOUND) {
      for (List<String> path : fieldPaths) {
        if (!present(record, path)) {
          return "missing field " + String.join(".", path);
        }
      }
      return "missing field (" + stripLocation(e.getMessage()) + ")";
    }
    if (e.getErrorCode() == CelErrorCode.ITERATION_BUDGET_EXCEEDED) {
      return "iteration limit: more than " + limits.celMaxIterations() + " iterations";
    }
    return stripLocation(e.getMessage());
  }

  private static String stripLocation(String message) {
    // "evaluation error at <input>:15: ..." → "evaluation error: ..."
    return message == null ? "evaluation error" : message.replaceFirst(" at <input>:\\d+:", ":");
  }

  private static boolean present(Map<String, Object> record, List<String> path) {
    Object current = record;
    for (String key : path) {
      if (!(current instanceof Map) || !((Map<?, ?>) current).containsKey(key)) {
        return false;
      }
      current = ((Map<?, ?>) current).get(key);
    }
    return true;
  }

  /** Field paths read from {@code record}: {@code record.a.b} and {@code record['a.b']} chains. */
  private static void collectPaths(CelExpr expr, List<List<String>> out) {
    List<String> path = pathOf(expr);
    if (path != null && !path.isEmpty()) {
      // add the prefixes first, so the first missing one is reported
      for (int i = 1; i <= path.size(); i++) {
        List<String> prefix = List.copyOf(path.subList(0, i));
        if (!out.contains(prefix)) {
          out.add(prefix);
        }
      }
    }
    switch (expr.getKind()) {
      case SELECT:
        collectPaths(expr.select().operand(), out);
        break;
      case CALL:
        expr.call().target().ifPresent(t -> collectPaths(t, out));
        for (CelExpr arg : expr.call().args()) {
          collectPaths(arg, out);
        }
        break;
      case LIST:
        for (CelExpr e : expr.list().elements()) {
          collectPaths(e, out);
        }
        break;
      case MAP:
        for (CelExpr.CelMap.Entry e : expr.map().entries()) {
          collectPaths(e.key(), out);
          collectPaths(e.value(), out);
        }
        break;
      case COMPREHENSION:
        CelExpr.CelComprehension c = expr.comprehension();
        collectPaths(c.iterRange(), out);
        collectPaths(c.accuInit(), out);
        collectPaths(c.loopCondition(), out);
        collectPaths(c.loopStep(), out);
        collectPaths(c.result(), out);
        break;
      default:
        break;
    }
  }

  /** ["a", "b"] for record.a.b or record['a']['b']; null when expr is not such a chain. */
  private static List<String> pathOf(CelExpr expr) {
    switch (expr.getKind()) {
      case IDENT:
        return "record".equals(expr.ident().name()) ? new ArrayList<>() : null;
      case SELECT:
        {
          if (expr.select().testOnly()) {
            return null; // has(record.x) does not fail on a missing field
          }
          List<String> base = pathOf(expr.select().operand());
          if (base != null) {
            base.add(expr.select().field());
          }
          return base;
        }
      case CALL:
        {
          CelExpr.CelCall call = expr.call();
          if ("_[_]".equals(call.function())
              && call.args().size() == 2
              && call.args().get(1).getKind() == CelExpr.ExprKind.Kind.CONSTANT
              && call.args().get(1).constant().getKind() == CelConstant.Kind.STRING_VALUE) {
            List<String> base = pathOf(call.args().get(0));
            if (base != null) {
              base.add(call.args().get(1).constant().stringValue());
            }
            return base;
          }
          return null;
        }
      default:
        return null;
    }
  }

  private static Map<String, Object> contextValue(FunctionContext context) {
    if (context == null) {
      return Map.of();
    }
    Map<String, Object> c = new LinkedHashMap<>(8);
    c.put("tenant", context.tenant());
    c.put("category", context.category());
    c.put("source", context.source());
    c.put("position", context.position());
    return c;
  }

  /** CEL lines are 1-based, columns 0-based (code points; the same as chars for BMP text). */
  private static int offsetOf(String source, int line, int column) {
    if (line < 1) {
      return -1;
    }
    int offset = 0;
    for (int l = 1; l < line; l++) {
      int nl = source.indexOf('\n', offset);
      if (nl < 0) {
        return Math.min(source.length(), offset + Math.max(0, column));
      }
      offset = nl + 1;
    }
    return Math.min(source.length(), offset + Math.max(0, column));
  }

  /** Values as the CEL runtime expects them: JSON null as NullValue, integers as long. */
  static final class CelValues {
    private CelValues() {}

    static Map<String, Object> prepare(Map<String, Object> record) {
      if (ready(record)) {
        return record;
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> converted = (Map<String, Object>) convert(record);
      return converted;
    }

    private static boolean ready(Object value) {
      if (value instanceof String
          || value instanceof Boolean
          || value instanceof Long
          || value instanceof Double) {
        return true;
      }
      if (value instanceof Map) {
        for (Object v : ((Map<?, ?>) value).values()) {
          if (!ready(v)) {
            return false;
          }
        }
        return true;
      }
      if (value instanceof List) {
        for (Object v : (List<?>) value) {
          if (!ready(v)) {
            return false;
          }
        }
        return true;
      }
      return false;
    }

    private static Object convert(Object value) {
      // A sealed value read by name failed the evaluation before (SealedFields.sealedAt); has()
      // sees it present, and an expression reaching it dynamically (record[k]) sees null.
      if (value == null || value instanceof SealedValue) {
        return NullValue.NULL_VALUE;
      }
      if (value instanceof Number) {
        return Records.canonicalNumber((Number) value);
      }
      if (value instanceof String || value instanceof Boolean) {
        return value;
      }
      if (value instanceof Map) {
        Map<String, Object> copy = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
          copy.put(String.valueOf(e.getKey()), convert(e.getValue()));
        }
        return copy;
      }
      if (value instanceof List) {
        List<Object> copy = new ArrayList<>();
        for (Object o : (List<?>) value) {
          copy.add(convert(o));
        }
        return copy;
      }
      throw new IllegalArgumentException("a " + value.getClass().getSimpleName() + " value");
    }
  }
}
