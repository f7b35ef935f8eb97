package io.mysimbdp.functions;

import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Strict comparison of JSON-like Java values: same Java number class and value (no 7 == 7.0),
 * same strings, same keys, lists in order. Key order within objects is not compared (MongoDB
 * documents are compared by content here).
 */
public final class JsonDiff {
  private JsonDiff() {}

  /** The first difference as "path: detail", or null when equal. */
  public static String diff(Object expected, Object actual) {
    return diff(expected, actual, "$");
  }

  private static String diff(Object a, Object b, String path) {
    if (a == null || b == null) {
      return a == b ? null : path + ": " + show(a) + " vs " + show(b);
    }
    if (a instanceof Map && b instanceof Map) {
      Map<?, ?> ma = (Map<?, ?>) a;
      Map<?, ?> mb = (Map<?, ?>) b;
      if (!ma.keySet().equals(mb.keySet())) {
        TreeSet<String> onlyA = new TreeSet<>();
        TreeSet<String> onlyB = new TreeSet<>();
        ma.keySet().forEach(k -> onlyA.add(String.valueOf(k)));
        mb.keySet().forEach(k -> onlyB.add(String.valueOf(k)));
        TreeSet<String> common = new TreeSet<>(onlyA);
        common.retainAll(onlyB);
        onlyA.removeAll(common);
        onlyB.removeAll(common);
        return path + ": keys only in expected " + onlyA + ", only in actual " + onlyB;
      }
      for (Map.Entry<?, ?> e : ma.entrySet()) {
        String d = diff(e.getValue(), mb.get(e.getKey()), path + "." + e.getKey());
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    if (a instanceof List && b instanceof List) {
      List<?> la = (List<?>) a;
      List<?> lb = (List<?>) b;
      if (la.size() != lb.size()) {
        return path + ": " + la.size() + " elements vs " + lb.size();
      }
      for (int i = 0; i < la.size(); i++) {
        String d = diff(la.get(i), lb.get(i), path + "[" + i + "]");
        if (d != null) {
          return d;
        }
      }
      return null;
    }
    if (a.getClass() != b.getClass()) {
      return path + ": " + show(a) + " vs " + show(b);
    }
    return a.equals(b) ? null : path + ": " + show(a) + " vs " + show(b);
  }

  private static String show(Object v) {
    return v == null ? "null" : v + " (" + v.getClass().getSimpleName() + ")";
  }
}
