package com.dashjoin.jsonata;

import com.dashjoin.jsonata.Jsonata.Frame;
import com.dashjoin.jsonata.Jsonata.JFunction;
import com.dashjoin.jsonata.Jsonata.JFunctionCallable;
import com.dashjoin.jsonata.Parser.Symbol;
import io.mysimbdp.functions.sealed.SealedValue;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The few package-private pieces of jsonata-java 0.9.8 that the mysimbdp sandbox needs
 * (io.mysimbdp.functions.sandbox.JsonataFunction). It lives in the library's package because 0.9.8
 * keeps {@code Parser.Symbol} package-private, so evaluation callbacks cannot be implemented from
 * outside, and because its public {@code evaluate} is not safe to share between threads: the
 * per-thread evaluator of 0.9.8 ({@code Jsonata.current}) overwrites the {@code environment} field
 * of whichever instance it is, so a shared compiled expression can see another evaluation's frame
 * (upstream issues #90, #93, fixed after 0.9.9). {@link #evaluate} never reads that field: every
 * call gets a fresh frame whose parent is a frame owned by the caller.
 *
 * <p>Works on the class path only (split package); the platform does not use the module path.
 */
public final class SandboxBridge {

  private SandboxBridge() {}

  /** Called on entry to and exit from every evaluated AST node of one evaluation. */
  public interface Monitor {
    void enter();

    void exit(Object result);
  }

  /**
   * Visits one AST node: its type ("path", "function", "regex", "variable", "lambda", ...), value,
   * position (JSONata's: the character offset just past the token) and whether it declares a
   * function signature ({@code function($x)<n:n>{...}}).
   */
  public interface NodeVisitor {
    void visit(String type, Object value, int position, boolean hasSignature);
  }

  /** Parses (throws {@link JException} with a character position on a syntax error). */
  public static Jsonata parse(String source) {
    return Jsonata.jsonata(source);
  }

  /** A new frame whose parent holds the library's built-in functions. */
  public static Frame newBuiltinChildFrame() {
    return new Frame(Jsonata.staticFrame);
  }

  /** Names of the library's built-in functions (without the "$"). */
  public static java.util.Set<String> builtinNames() {
    return java.util.Set.copyOf(Jsonata.staticFrame.bindings.keySet());
  }

  /** The library's built-in function of that name (e.g. "pad"), or null. */
  public static Object builtin(String name) {
    return Jsonata.staticFrame.lookup(name);
  }

  /** A function value with a JSONata signature, e.g. {@code "<s-ns?:s>"}. */
  public static JFunction function(String signature, JFunctionCallable implementation) {
    return new JFunction(implementation, signature);
  }

  /** True for values that are not JSON: functions, lambdas, regular expressions. */
  public static boolean isFunctionValue(Object value) {
    return value instanceof JFunction
        || value instanceof Jsonata.JFunctionCallable
        || value instanceof Jsonata.JLambda
        || value instanceof Symbol
        || value instanceof Pattern;
  }

  /** JSONata's representation of JSON null (Java null means "undefined" to it). */
  public static Object nullMarker() {
    return Jsonata.NULL_VALUE;
  }

  /** JSONata's marker for JSON null inside results. */
  public static boolean isNullMarker(Object value) {
    return value == Jsonata.NULL_VALUE;
  }

  /** A lazy integer range ({@code [1..n]}); its size is known without materializing it. */
  public static boolean isLazyRange(Object value) {
    return value instanceof Utils.RangeList;
  }

  /**
   * Evaluates {@code expr} against {@code input} in a fresh frame under {@code parent}, with
   * {@code variables} bound and {@code monitor} called around every node. Thread-safe for a shared
   * {@code expr} as long as nothing else calls the library's public {@code evaluate} on it.
   * Returns the raw result: may contain {@link Jsonata#NULL_VALUE}, lazy ranges and sequences.
   */
  public static Object evaluate(
      Jsonata expr, Frame parent, Object input, Map<String, Object> variables, Monitor monitor) {
    return evaluate(expr, parent, input, variables, monitor, Map.of());
  }

  /**
   * As above; a node of {@code readers} (see {@link #readingNodes}) that evaluates to a sealed
   * value fails the evaluation with {@link SealedValue.Misuse} before its value is read.
   */
  public static Object evaluate(
      Jsonata expr, Frame parent, Object input, Map<String, Object> variables, Monitor monitor,
      Map<Object, String> readers) {
    if (expr.errors != null) {
      throw new JException("S0500", 0);
    }
    Frame frame = new Frame(parent);
    frame.setEvaluateEntryCallback((node, in, env) -> monitor.enter());
    if (readers.isEmpty()) {
      frame.setEvaluateExitCallback((node, in, env, result) -> monitor.exit(result));
    } else {
      frame.setEvaluateExitCallback((node, in, env, result) -> {
        if (result != null && readers.containsKey(node)) {
          SealedValue sealed = sealedIn(result);
          if (sealed != null) {
            throw sealed.misuse(readers.get(node));
          }
        }
        monitor.exit(result);
      });
    }
    for (Map.Entry<String, Object> v : variables.entrySet()) {
      frame.bind(v.getKey(), v.getValue());
    }
    frame.bind("$", input);
    if (input instanceof List && !Utils.isSequence(input)) {
      input = Utils.createSequence(input);
      ((Utils.JList<?>) input).outerWrapper = true;
    }
    try {
      Functions.validateInput(input);
    } catch (IllegalArgumentException e) {
      // Sealed values are the one non-JSON type the sandbox's caller lets in (checked there).
      if (!io.mysimbdp.functions.sealed.SealedFields.containsSealed(input)) {
        throw e;
      }
    }
    // $now() and $millis() read the timestamp of this thread's evaluator instance.
    expr.getPerThreadInstance().timestamp = System.currentTimeMillis();
    return expr.evaluate(expr.ast, input, frame);
  }

  /** Visits every node of the parsed expression (all Symbol-valued fields, recursively). */
  public static void visitNodes(Jsonata expr, NodeVisitor visitor) {
    walk(expr.ast, s -> visitor.visit(s.type, s.value, s.position, s.signature != null), new IdentityHashMap<>());
  }

  /**
   * The nodes whose value the evaluation reads rather than carries (operands of operators, the
   * test of a condition, predicates, sort keys, arguments of built-in functions other than
   * {@code passThrough} ones), each with a description for the error: a sealed value may flow
   * through paths, object and array constructors, variables and pass-through functions, never
   * into these.
   */
  public static Map<Object, String> readingNodes(Jsonata expr, java.util.Set<String> passThrough) {
    IdentityHashMap<Object, String> readers = new IdentityHashMap<>();
    walk(expr.ast, s -> {
      switch (String.valueOf(s.type)) {
        case "binary" -> {
          String what = "the operator '" + s.value + "'";
          putNode(readers, s.lhs, what);
          putNode(readers, s.rhs, what);
        }
        case "unary" -> {
          if ("-".equals(s.value)) {
            putNode(readers, s.expression, "the operator '-'");
          }
        }
        case "condition" -> putNode(readers, s.condition, "the condition of '? :'");
        case "filter" -> putNode(readers, s.expr, "a predicate [ ]");
        case "sort" -> {
          if (s.terms != null) {
            s.terms.forEach(t -> putNode(readers, t.expression, "the sort '^( )'"));
          }
        }
        case "function", "partial" -> {
          Symbol p = s.procedure;
          String name = p != null && "variable".equals(p.type) ? String.valueOf(p.value) : null;
          // A lambda's own operations are checked where they happen; a built-in reads its arguments.
          boolean builtin = name != null && Jsonata.staticFrame.bindings.containsKey(name);
          if (builtin && !passThrough.contains(name) && s.arguments != null) {
            String what = "the function $" + name;
            s.arguments.forEach(a -> putNode(readers, a, what));
          }
        }
        default -> {}
      }
    }, new IdentityHashMap<>());
    return readers;
  }

  private static void putNode(Map<Object, String> readers, Object node, String what) {
    if (node instanceof Symbol) {
      readers.putIfAbsent(node, what);
    }
  }

  /** The value if it is sealed, else the first sealed value inside it (objects, arrays); else null. */
  private static SealedValue sealedIn(Object result) {
    return sealedIn(result, 0);
  }

  private static SealedValue sealedIn(Object value, int depth) {
    if (value instanceof SealedValue sealed) {
      return sealed;
    }
    if (depth > 64) {
      return null; // deeper than any record the sandbox accepts
    }
    Iterable<?> children = value instanceof Map<?, ?> map ? map.values() : value instanceof List<?> list ? list : null;
    if (children != null) {
      for (Object o : children) {
        SealedValue sealed = sealedIn(o, depth + 1);
        if (sealed != null) {
          return sealed;
        }
      }
    }
    return null;
  }

  /** Node-valued fields per concrete node class (the parser uses a few Symbol subclasses). */
  private static final ClassValue<List<Field>> NODE_FIELDS =
      new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
          List<Field> fields = new ArrayList<>();
          for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field f : c.getDeclaredFields()) {
              if (Modifier.isStatic(f.getModifiers()) || f.isSynthetic()) {
                continue;
              }
              Class<?> t = f.getType();
              if (Symbol.class.isAssignableFrom(t)
                  || List.class.isAssignableFrom(t)
                  || t.isArray()
                  || t == Object.class) {
                f.setAccessible(true);
                fields.add(f);
              }
            }
          }
          return fields;
        }
      };

  private static void walk(Object node, java.util.function.Consumer<Symbol> visitor, IdentityHashMap<Object, Boolean> seen) {
    if (node == null || seen.put(node, Boolean.TRUE) != null) {
      return;
    }
    if (node instanceof Symbol) {
      Symbol s = (Symbol) node;
      visitor.accept(s);
      for (Field f : NODE_FIELDS.get(s.getClass())) {
        try {
          walk(f.get(s), visitor, seen);
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    } else if (node instanceof List) {
      for (Object o : (List<?>) node) {
        walk(o, visitor, seen);
      }
    } else if (node instanceof Object[]) {
      for (Object o : (Object[]) node) {
        walk(o, visitor, seen);
      }
    }
  }
}
