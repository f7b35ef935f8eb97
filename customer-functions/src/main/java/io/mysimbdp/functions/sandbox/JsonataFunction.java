package io.mysimbdp.functions.sandbox;

import com.dashjoin.jsonata.JException;
import com.dashjoin.jsonata.Jsonata;
import com.dashjoin.jsonata.Jsonata.Frame;
import com.dashjoin.jsonata.Jsonata.JFunction;
import com.dashjoin.jsonata.Jsonata.JFunctionCallable;
import com.dashjoin.jsonata.SandboxBridge;
import io.mysimbdp.functions.Records;
import io.mysimbdp.functions.sealed.SealedValue;
import io.mysimbdp.functions.sandbox.LimitExceededException.Limit;
import io.mysimbdp.functions.spi.CompileException;
import io.mysimbdp.functions.spi.FunctionContext;
import io.mysimbdp.functions.spi.FunctionException;
import io.mysimbdp.functions.spi.IngestionFunction;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A tenant-uploaded JSONata transform, compiled once and run per record in a sandbox.
 *
 * <p>The expression sees the record as {@code $}, the record's {@link FunctionContext} as {@code
 * $context} ({@code tenant, category, source, position}) and the function's configuration as
 * {@code $config}. Its result decides the output: an object is one record, an array of objects is
 * several, nothing (undefined, null, empty array) filters the record out; anything else fails it.
 *
 * <p>The sandbox: the expression can call only JSONata's own built-in functions (the library has
 * no file, network, thread or reflection function, and tenants cannot register Java functions);
 * {@code $eval}, regular expressions, signatures on lambdas, {@code $toMillis} with a picture and
 * {@code $parseInteger} are refused, because they either evaluate code out of the monitor's sight or
 * run java.util.regex backtracking that no time check can interrupt. Every evaluation runs under a
 * {@link JsonataMonitor} ({@link SandboxLimits}: time, depth, allocated bytes, value sizes), and
 * the built-ins that can make a result much bigger than their arguments ({@code $pad, $join,
 * $string, $replace, $split, $zip, $clone}) check the size they are about to build first.
 *
 * <p>Thread-safe: one instance serves all threads; each call evaluates in its own frame.
 */
public final class JsonataFunction implements IngestionFunction {
  public static final String LANGUAGE = "jsonata";

  /** Mongo's own nesting limit is 100 levels; deeper output could not be stored anyway. */
  static final int MAX_OUTPUT_NESTING = 100;

  private static final Map<String, String> FORBIDDEN =
      Map.of(
          "eval", "it evaluates text as code",
          "parseInteger", "its picture parser uses backtracking regular expressions");

  private static final ThreadLocal<JsonataMonitor> CURRENT = new ThreadLocal<>();
  private static final Frame SANDBOX_FRAME = sandboxFrame();

  private final String source;
  private final Jsonata expression;
  private final Map<String, Object> config;
  private final SandboxLimits limits;
  /** Nodes whose value is read: a sealed value there fails the record (SandboxBridge.readingNodes). */
  private final Map<Object, String> sealedReaders;

  /** Built-ins that carry values without reading them: sealed values may go through them. */
  private static final java.util.Set<String> SEALED_PASS_THROUGH = java.util.Set.of(
      "exists", "count", "append", "reverse", "lookup", "merge", "keys", "spread", "each", "sift", "map",
      "filter", "zip", "single");

  private JsonataFunction(
      String source, Jsonata expression, Map<String, Object> config, SandboxLimits limits) {
    this.source = source;
    this.expression = expression;
    this.config = config;
    this.limits = limits;
    this.sealedReaders = SandboxBridge.readingNodes(expression, SEALED_PASS_THROUGH);
  }

  public static JsonataFunction compile(String source, SandboxLimits limits)
      throws CompileException {
    return compile(source, Map.of(), limits);
  }

  /**
   * Parses and checks {@code source}.
   *
   * @param config bound as {@code $config} (JSON values; copied)
   * @throws CompileException with the position of a syntax error or of a refused construct
   */
  public static JsonataFunction compile(
      String source, Map<String, ?> config, SandboxLimits limits) throws CompileException {
    if (source == null || source.isBlank()) {
      throw CompileException.of(LANGUAGE, "the source is empty");
    }
    if (source.length() > limits.maxSourceLength()) {
      throw CompileException.of(
          LANGUAGE,
          "the source has " + source.length() + " characters, more than " + limits.maxSourceLength());
    }
    Jsonata expression;
    try {
      expression = SandboxBridge.parse(source);
    } catch (JException e) {
      throw CompileException.at(
          LANGUAGE, source, Math.max(0, e.getLocation() - 1), e.getMessage());
    } catch (RuntimeException | StackOverflowError e) {
      throw CompileException.of(LANGUAGE, "the parser failed: " + e);
    }
    if (expression.getErrors() != null && !expression.getErrors().isEmpty()) {
      Exception first = expression.getErrors().get(0);
      int at = first instanceof JException ? ((JException) first).getLocation() - 1 : -1;
      throw CompileException.at(LANGUAGE, source, at, first.getMessage());
    }
    checkPolicy(source, expression);
    Map<String, Object> configCopy;
    try {
      configCopy = Collections.unmodifiableMap(Records.copyRecord(config));
    } catch (IllegalArgumentException e) {
      throw CompileException.of(LANGUAGE, "config: " + e.getMessage());
    }
    return new JsonataFunction(source, expression, configCopy, limits);
  }

  /** Refuses what the monitor cannot bound; the position points at the construct. */
  private static void checkPolicy(String source, Jsonata expression) throws CompileException {
    List<CompileException> problems = new ArrayList<>();
    SandboxBridge.visitNodes(
        expression,
        (type, value, position, hasSignature) -> {
          if ("regex".equals(type)) {
            String text = value instanceof Pattern ? ((Pattern) value).pattern() : "";
            problems.add(
                CompileException.at(
                    LANGUAGE,
                    source,
                    Math.max(0, position - text.length() - 2),
                    "regular expressions are not allowed in uploaded functions (java.util.regex"
                        + " backtracking cannot be interrupted); use plain strings with $contains,"
                        + " $split or $replace, or a CEL predicate's matches(), which runs RE2"));
          } else if ("variable".equals(type) && FORBIDDEN.containsKey(String.valueOf(value))) {
            String name = String.valueOf(value);
            problems.add(
                CompileException.at(
                    LANGUAGE,
                    source,
                    Math.max(0, position - name.length() - 1),
                    "$" + name + " is not allowed in uploaded functions: " + FORBIDDEN.get(name)));
          } else if ("lambda".equals(type) && hasSignature) {
            problems.add(
                CompileException.at(
                    LANGUAGE,
                    source,
                    Math.max(0, position - 1),
                    "function signatures (<...>) are not allowed in uploaded functions (they are"
                        + " checked with java.util.regex)"));
          }
        });
    if (!problems.isEmpty()) {
      problems.sort((a, b) -> Integer.compare(a.offset(), b.offset()));
      throw problems.get(0);
    }
  }

  public String source() {
    return source;
  }

  public SandboxLimits limits() {
    return limits;
  }

  @Override
  public List<Map<String, Object>> apply(Map<String, Object> record, FunctionContext context)
      throws FunctionException {
    JsonataMonitor monitor = new JsonataMonitor(limits);
    Map<String, Object> variables = new LinkedHashMap<>(4);
    variables.put("context", contextValue(context));
    variables.put("config", config);
    Object input = prepareInput(record);
    monitor.input(input);
    Object raw;
    JsonataMonitor outer = CURRENT.get();
    CURRENT.set(monitor);
    try {
      raw = SandboxBridge.evaluate(expression, SANDBOX_FRAME, input, variables, monitor, sealedReaders);
      monitor.checkClockAndMemory();
    } catch (LimitViolation e) {
      throw e.toFunctionException();
    } catch (SealedValue.Misuse e) {
      throw new FunctionException(e.getMessage());
    } catch (JException e) {
      throw violationOr(monitor, describe(e));
    } catch (StackOverflowError e) {
      throw new LimitExceededException(
          Limit.DEPTH, "recursion depth exceeded the thread's stack (limit " + limits.maxDepth() + ")");
    } catch (RuntimeException e) {
      if (e.getCause() instanceof SealedValue.Misuse misuse) {
        throw new FunctionException(misuse.getMessage());
      }
      Throwable cause = e.getCause() instanceof JException ? e.getCause() : e;
      throw violationOr(
          monitor,
          cause instanceof JException
              ? describe((JException) cause)
              : "JSONata evaluation failed: " + e);
    } finally {
      CURRENT.set(outer);
    }
    return toRecords(raw, monitor);
  }

  private static FunctionException violationOr(JsonataMonitor monitor, String message) {
    LimitViolation violation = monitor.violation();
    return violation != null ? violation.toFunctionException() : new FunctionException(message);
  }

  private String describe(JException e) {
    String code = e.getError();
    int location = e.getLocation();
    StringBuilder b = new StringBuilder("JSONata error");
    if (code != null && !code.isEmpty()) {
      b.append(' ').append(code);
    }
    if (location > 0) {
      CompileException at = CompileException.at(LANGUAGE, source, location - 1, "");
      b.append(" at line ").append(at.line()).append(", column ").append(at.column());
    }
    return b.append(": ").append(e.getMessage()).toString();
  }

  private static Map<String, Object> contextValue(FunctionContext context) {
    Map<String, Object> c = new LinkedHashMap<>(8);
    c.put("tenant", context.tenant());
    c.put("category", context.category());
    c.put("source", context.source());
    c.put("position", context.position());
    return c;
  }

  /**
   * The record as JSONata expects it: JSON null as the library's null marker, numbers it handles.
   * Records that need no change (the usual case) are passed as they are; JSONata never mutates its
   * input, and the output is copied.
   */
  private static Object prepareInput(Map<String, Object> record) throws FunctionException {
    if (isReady(record, 0)) {
      return record;
    }
    return convertInput(record, 0);
  }

  private static boolean isReady(Object value, int depth) throws FunctionException {
    if (depth > MAX_OUTPUT_NESTING) {
      throw new FunctionException("input nested more than " + MAX_OUTPUT_NESTING + " levels");
    }
    if (value instanceof String
        || value instanceof Boolean
        || value instanceof Long
        || value instanceof Double
        || value instanceof Integer) {
      return true;
    }
    if (value instanceof Map) {
      for (Object v : ((Map<?, ?>) value).values()) {
        if (!isReady(v, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    if (value instanceof List) {
      for (Object v : (List<?>) value) {
        if (!isReady(v, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    return false;
  }

  private static Object convertInput(Object value, int depth) throws FunctionException {
    if (value == null) {
      return SandboxBridge.nullMarker();
    }
    if (value instanceof String || value instanceof Boolean || value instanceof SealedValue) {
      return value;
    }
    if (value instanceof Number) {
      try {
        return Records.canonicalNumber((Number) value);
      } catch (IllegalArgumentException e) {
        throw new FunctionException("input has " + e.getMessage());
      }
    }
    if (value instanceof Map) {
      Map<String, Object> copy = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) value).entrySet()) {
        copy.put(String.valueOf(e.getKey()), convertInput(e.getValue(), depth + 1));
      }
      return copy;
    }
    if (value instanceof List) {
      List<Object> copy = new ArrayList<>();
      for (Object o : (List<?>) value) {
        copy.add(convertInput(o, depth + 1));
      }
      return copy;
    }
    throw new FunctionException(
        "input is not JSON: a " + value.getClass().getSimpleName() + " value");
  }

  /** Object → one record; array of objects → several; nothing → none; anything else fails. */
  private List<Map<String, Object>> toRecords(Object raw, JsonataMonitor monitor)
      throws FunctionException {
    if (raw == null || SandboxBridge.isNullMarker(raw)) {
      return List.of();
    }
    OutputBudget budget = new OutputBudget(limits, monitor);
    if (raw instanceof Map) {
      return List.of(budget.record(raw, "result"));
    }
    if (raw instanceof List) {
      List<?> items = (List<?>) raw;
      if (items.size() > limits.maxOutputRecords()) {
        throw new LimitExceededException(
            Limit.OUTPUT,
            "output limit: " + items.size() + " records, more than " + limits.maxOutputRecords());
      }
      List<Map<String, Object>> records = new ArrayList<>(items.size());
      int index = 0;
      for (Object item : items) {
        if (!(item instanceof Map)) {
          throw new FunctionException(
              "the JSONata function returned an array whose element "
                  + index
                  + " is "
                  + describeRaw(item)
                  + "; every element must be an object (one record each)");
        }
        records.add(budget.record(item, "result[" + index + "]"));
        index++;
      }
      return records;
    }
    throw new FunctionException(
        "the JSONata function returned "
            + describeRaw(raw)
            + "; it must return an object (one record), an array of objects, or nothing");
  }

  static String describeRaw(Object value) {
    if (value == null || SandboxBridge.isNullMarker(value)) {
      return "null";
    }
    if (SandboxBridge.isFunctionValue(value)) {
      return "a function";
    }
    return Records.describeType(value);
  }

  /** Copies the output into plain Java values within the output bounds. */
  private static final class OutputBudget {
    private final SandboxLimits limits;
    private final JsonataMonitor monitor;
    private long used;

    OutputBudget(SandboxLimits limits, JsonataMonitor monitor) {
      this.limits = limits;
      this.monitor = monitor;
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> record(Object raw, String path) throws FunctionException {
      return (Map<String, Object>) copy(raw, path, 0);
    }

    private Object copy(Object raw, String path, int depth) throws FunctionException {
      charge(1);
      if (raw == null || SandboxBridge.isNullMarker(raw)) {
        return null;
      }
      if (raw instanceof String) {
        String s = (String) raw;
        if (s.length() > limits.maxStringLength()) {
          throw new LimitExceededException(Limit.MEMORY, monitor.stringTooLong(s.length()));
        }
        charge(s.length() >> 4);
        return s;
      }
      if (raw instanceof Boolean || raw instanceof SealedValue) {
        return raw;
      }
      if (raw instanceof Number) {
        try {
          return Records.canonicalNumber((Number) raw);
        } catch (IllegalArgumentException e) {
          throw new FunctionException("the JSONata function returned " + e.getMessage() + " at " + path);
        }
      }
      if (depth >= MAX_OUTPUT_NESTING) {
        throw new LimitExceededException(
            Limit.OUTPUT, "output limit: nested more than " + MAX_OUTPUT_NESTING + " levels at " + path);
      }
      if (raw instanceof Map) {
        Map<?, ?> map = (Map<?, ?>) raw;
        checkSize(map.size(), path);
        Map<String, Object> out = new LinkedHashMap<>(Math.max(4, map.size() * 2));
        for (Map.Entry<?, ?> e : map.entrySet()) {
          String key = String.valueOf(e.getKey());
          charge(1 + (key.length() >> 4));
          out.put(key, copy(e.getValue(), path + "." + key, depth + 1));
        }
        return out;
      }
      if (raw instanceof List) {
        List<?> list = (List<?>) raw;
        checkSize(list.size(), path);
        List<Object> out = new ArrayList<>(list.size());
        int i = 0;
        for (Object o : list) {
          out.add(copy(o, path + "[" + i++ + "]", depth + 1));
        }
        return out;
      }
      throw new FunctionException(
          "the JSONata function returned " + describeRaw(raw) + " at " + path + ", which is not JSON");
    }

    private void checkSize(int size, String path) throws LimitExceededException {
      if (size > limits.maxCollectionSize()) {
        throw new LimitExceededException(
            Limit.MEMORY,
            "memory limit: array or object of " + size + " elements at " + path + ", more than "
                + limits.maxCollectionSize());
      }
    }

    private void charge(long units) throws LimitExceededException {
      used += units;
      if (used > limits.maxValueSize()) {
        throw new LimitExceededException(Limit.OUTPUT, "output limit: " + monitor.valueTooLarge());
      }
    }
  }

  // ---- the sandbox's function table ----

  private static Frame sandboxFrame() {
    Frame frame = SandboxBridge.newBuiltinChildFrame();
    frame.bind("eval", forbidden("eval", "<sx?:x>", FORBIDDEN.get("eval")));
    frame.bind(
        "parseInteger", forbidden("parseInteger", "<s-s:n>", FORBIDDEN.get("parseInteger")));
    frame.bind(
        "toMillis",
        guarded(
            "toMillis",
            "<s-s?:n>",
            args -> {
              if (args.size() > 1 && args.get(1) != null) {
                throw current()
                    .violate(
                        Limit.FORBIDDEN,
                        "$toMillis with a picture is not allowed in uploaded functions (its parser"
                            + " backtracks); pass ISO-8601 timestamps");
              }
            }));
    // Re-implemented: the library's $pad concatenates in a loop (quadratic in the width).
    frame.bind("pad", SandboxBridge.function("<s-ns?:s>", JsonataFunction::pad));
    frame.bind(
        "join",
        guarded(
            "join",
            "<a<s>s?:s>",
            args -> {
              Object strings = arg(args, 0);
              Object separator = arg(args, 1);
              long sep = separator instanceof String ? ((String) separator).length() : 0;
              long total = 0;
              if (strings instanceof List) {
                List<?> list = (List<?>) strings;
                for (Object s : list) {
                  total += (s instanceof String ? ((String) s).length() : 0) + sep;
                }
              } else if (strings instanceof String) {
                total = ((String) strings).length();
              }
              requireString(total);
            }));
    frame.bind(
        "string", guarded("string", "<x-b?:s>", args -> requireString(jsonLength(arg(args, 0)))));
    frame.bind(
        "clone", guarded("clone", "<(oa)-:o>", args -> requireString(jsonLength(arg(args, 0)))));
    frame.bind(
        "replace",
        guarded(
            "replace",
            "<s-(sf)(sf)n?:s>",
            args -> {
              Object str = arg(args, 0);
              Object pattern = arg(args, 1);
              Object replacement = arg(args, 2);
              Object limit = arg(args, 3);
              if (str instanceof String
                  && pattern instanceof String
                  && replacement instanceof String
                  && !((String) pattern).isEmpty()) {
                long max = limit instanceof Number ? ((Number) limit).longValue() : Long.MAX_VALUE;
                long count = occurrences((String) str, (String) pattern, max);
                long length =
                    ((String) str).length()
                        + count * (((String) replacement).length() - ((String) pattern).length());
                requireString(length);
              }
            }));
    frame.bind(
        "split",
        guarded(
            "split",
            "<s-(sf)n?:a<s>>",
            args -> {
              Object str = arg(args, 0);
              Object separator = arg(args, 1);
              if (str instanceof String && separator instanceof String) {
                String s = (String) str;
                String sep = (String) separator;
                long parts =
                    sep.isEmpty() ? s.length() : occurrences(s, sep, Long.MAX_VALUE) + 1;
                requireCollection(parts);
              }
            }));
    frame.bind(
        "zip",
        guarded(
            "zip",
            "<a+>",
            args -> {
              long shortest = Long.MAX_VALUE;
              for (Object a : args) {
                shortest = Math.min(shortest, a instanceof List ? ((List<?>) a).size() : 1);
              }
              if (shortest != Long.MAX_VALUE && shortest * (args.size() + 1L) > current().limitsMaxValue()) {
                throw current().violate(Limit.MEMORY, current().valueTooLarge());
              }
            }));
    return frame;
  }

  private interface ArgumentCheck {
    void check(List<?> args);
  }

  private static JFunction forbidden(String name, String signature, String reason) {
    JFunctionCallable refuse =
        (input, args) -> {
          throw current()
              .violate(Limit.FORBIDDEN, "$" + name + " is not allowed in uploaded functions: " + reason);
        };
    return SandboxBridge.function(signature, refuse);
  }

  /** The library's built-in {@code name}, preceded by a check of its (validated) arguments. */
  private static JFunction guarded(String name, String signature, ArgumentCheck check) {
    JFunction original = (JFunction) SandboxBridge.builtin(name);
    if (original == null) {
      throw new IllegalStateException("jsonata has no built-in $" + name);
    }
    JFunctionCallable call =
        (input, args) -> {
          JsonataMonitor monitor = current();
          monitor.checkClockAndMemory();
          check.check(args);
          return original.call(input, args);
        };
    return SandboxBridge.function(signature, call);
  }

  /** JSONata's $pad: pads to |width| code points, on the right (width > 0) or left (width < 0). */
  private static Object pad(Object input, List<?> args) {
    JsonataMonitor monitor = current();
    monitor.checkClockAndMemory();
    Object str = arg(args, 0);
    Object width = arg(args, 1);
    Object padding = arg(args, 2);
    if (!(str instanceof String)) {
      return null;
    }
    if (!(width instanceof Number)) {
      throw new JException("T0410", -1, width);
    }
    double w = ((Number) width).doubleValue();
    if (w != Math.rint(w)) {
      throw new JException("D3030", -1, width);
    }
    String s = (String) str;
    String with = padding instanceof String && !((String) padding).isEmpty() ? (String) padding : " ";
    double pads = Math.abs(w) - s.codePointCount(0, s.length());
    if (pads <= 0) {
      return s;
    }
    requireString((long) pads + s.length());
    StringBuilder fill = new StringBuilder((int) pads + s.length());
    int[] points = with.codePoints().toArray();
    for (long i = 0; i < pads; i++) {
      fill.appendCodePoint(points[(int) (i % points.length)]);
    }
    return w < 0 ? fill.append(s).toString() : s + fill;
  }

  private static JsonataMonitor current() {
    JsonataMonitor monitor = CURRENT.get();
    if (monitor == null) {
      throw new IllegalStateException("sandboxed built-in called outside an evaluation");
    }
    return monitor;
  }

  private static Object arg(List<?> args, int index) {
    return index < args.size() ? args.get(index) : null;
  }

  private static void requireString(long length) {
    JsonataMonitor monitor = current();
    if (length > monitor.limitsMaxString()) {
      throw monitor.violate(Limit.MEMORY, monitor.stringTooLong(length));
    }
  }

  private static void requireCollection(long size) {
    JsonataMonitor monitor = current();
    if (size > monitor.limitsMaxCollection()) {
      throw monitor.violate(
          Limit.MEMORY,
          "memory limit: array of " + size + " elements, more than " + monitor.limitsMaxCollection());
    }
  }

  private static long occurrences(String s, String part, long max) {
    long count = 0;
    int from = 0;
    while (count < max) {
      int at = s.indexOf(part, from);
      if (at < 0) {
        break;
      }
      count++;
      from = at + part.length();
    }
    return count;
  }

  /** Length of a string as a JSON string literal (quotes and escapes included). */
  private static long quotedLength(String s) {
    long length = 2;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      length += c < 0x20 ? 6 : (c == '"' || c == '\\' || c == '/') ? 2 : 1;
    }
    return length;
  }

  /**
   * An upper bound of the length of the JSON text of {@code value}, stopping early once it is over
   * the string limit (so it costs at most that much work).
   */
  private static long jsonLength(Object value) {
    JsonataMonitor monitor = current();
    long limit = monitor.limitsMaxString();
    long length = 0;
    ArrayDeque<Object> pending = new ArrayDeque<>();
    if (value != null) {
      pending.push(value);
    }
    if (value instanceof String) {
      return ((String) value).length(); // $string returns strings unchanged
    }
    while (!pending.isEmpty() && length <= limit) {
      Object v = pending.pop();
      if (v instanceof String) {
        length += quotedLength((String) v);
      } else if (v instanceof Map) {
        Map<?, ?> map = (Map<?, ?>) v;
        length += 2;
        for (Map.Entry<?, ?> e : map.entrySet()) {
          length += 2 + quotedLength(String.valueOf(e.getKey()));
          if (e.getValue() != null) {
            pending.push(e.getValue());
          } else {
            length += 4;
          }
        }
      } else if (v instanceof List) {
        List<?> list = (List<?>) v;
        length += 2;
        if (SandboxBridge.isLazyRange(list)) {
          length += 21L * list.size();
        } else {
          for (Object o : list) {
            length += 1;
            if (o != null) {
              pending.push(o);
            } else {
              length += 4;
            }
          }
        }
      } else {
        length += 24;
      }
    }
    return length;
  }
}
