package io.mysimbdp.node.http;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The tenant routes as each {@code *Routes} class of the API documents them in its javadoc's
 * {@code <pre>} table ("METHOD path  who  what"), read from the source, so that a test can try
 * every one of them. Alongside: the path segments the class's code matches on, to check that the
 * table names every one of them (a route added to the code but not to its table fails the test).
 */
final class RouteTable {
  static final Path SOURCES = Path.of("src/main/java/io/mysimbdp/node/http");
  private static final String METHOD = "GET|POST|PUT|DELETE|PATCH|HEAD|OPTIONS";
  private static final Pattern ROW = Pattern.compile("^\\s*\\*\\s+((?:" + METHOD + ")(?:\\|(?:" + METHOD + "))*)\\s+(\\S+)");
  private static final Pattern LITERAL = Pattern.compile("(?:path|pathPrefix|segment)\\(\\s*\"([A-Za-z0-9_-]+)\"");

  /** One documented route: method and the path under {@code /v1/tenants/{id}} ("" for the tenant itself). */
  record Route(String method, String path, String source) {
    /** The path for tenant {@code tenant}, every {@code {placeholder}} filled with a probe value. */
    String concrete(String tenant) {
      String filled = path.replaceAll("\\{[^}]+}", "probe-1");
      return "/v1/tenants/" + tenant + (filled.isEmpty() ? "" : "/" + filled);
    }

    @Override
    public String toString() {
      return method + " " + path + " (" + source + ")";
    }
  }

  /** A routes class: its documented tenant routes, and the path literals its code matches on. */
  record RoutesClass(String file, List<Route> routes, Set<String> documentedSegments, Set<String> codeSegments) {}

  private RouteTable() {}

  /** Every class of the API's routes: TenantRoutes and each TenantSubRoutes implementation. */
  static List<RoutesClass> classes() {
    List<RoutesClass> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(SOURCES)) {
      for (Path file : files.sorted().toList()) {
        String source = Files.readString(file);
        String name = file.getFileName().toString();
        boolean tenantRoutes = name.equals("TenantRoutes.java") || source.contains("implements TenantSubRoutes");
        if (tenantRoutes) {
          out.add(parse(name, source));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static List<Route> all() {
    return classes().stream().flatMap(c -> c.routes().stream()).toList();
  }

  private static RoutesClass parse(String name, String source) {
    List<Route> routes = new ArrayList<>();
    Set<String> documented = new TreeSet<>();
    int start = source.indexOf("<pre>");
    int end = source.indexOf("</pre>", Math.max(start, 0));
    if (start >= 0 && end > start) {
      for (String line : source.substring(start, end).split("\n")) {
        Matcher m = ROW.matcher(line);
        if (!m.find()) {
          continue;
        }
        String path = m.group(2).replace("&amp;", "&");
        int query = path.indexOf('?');
        path = query >= 0 ? path.substring(0, query) : path;
        path = path.startsWith("/") ? path.substring(1) : path;
        if (path.startsWith("v1/tenants")) {
          if (!path.startsWith("v1/tenants/{id}")) {
            continue; // the admin's collection routes (create, list), not a tenant's
          }
          path = path.substring("v1/tenants/{id}".length());
          path = path.startsWith("/") ? path.substring(1) : path;
        }
        for (String segment : path.split("/")) {
          if (!segment.isEmpty() && !segment.startsWith("{")) {
            documented.add(segment);
          }
        }
        for (String method : m.group(1).split("\\|")) {
          routes.add(new Route(method, path, name));
        }
      }
    }
    Set<String> code = new TreeSet<>();
    Matcher literal = LITERAL.matcher(source);
    while (literal.find()) {
      code.add(literal.group(1));
    }
    return new RoutesClass(name, routes, documented, code);
  }
}
