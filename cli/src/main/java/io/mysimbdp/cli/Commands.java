package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** What the commands share: the client of the global options, reading FILE or {@code -}. */
final class Commands {
  private Commands() {}

  /** The client for the tenant the global options (or environment) name. */
  static PlatformClient client(CommandSpec spec) {
    return ((Mysimbdp) spec.root().userObject()).client(spec);
  }

  /**
   * Prints the records of {@code path}'s pages (one JSON object a line) from cursor {@code after}:
   * the first page, or every page with {@code all}; otherwise the next page's cursor goes to
   * standard error. Answers how many were printed.
   */
  static long printPages(CommandSpec spec, PlatformClient client, String path, String after, boolean all)
      throws IOException, InterruptedException {
    java.io.PrintWriter out = spec.commandLine().getOut();
    String cursor = after;
    long printed = 0;
    while (true) {
      String query = path + (cursor == null ? "" : (path.contains("?") ? "&" : "?") + "after=" + PlatformClient.encode(cursor));
      com.fasterxml.jackson.databind.JsonNode page = client.getJson(query);
      for (com.fasterxml.jackson.databind.JsonNode item : Json.items(page)) {
        out.println(Json.compact(item));
        printed++;
      }
      out.flush();
      java.util.Optional<String> next = Json.next(page);
      if (next.isEmpty() || next.get().equals(cursor)) {
        return printed;
      }
      cursor = next.get();
      if (!all) {
        spec.commandLine().getErr().println("more: --after " + cursor);
        spec.commandLine().getErr().flush();
        return printed;
      }
    }
  }

  /** The bytes of FILE, or of standard input for {@code -}; at most {@code limit} bytes. */
  static byte[] read(CommandSpec spec, String source, long limit) throws IOException {
    byte[] bytes;
    if ("-".equals(source)) {
      try (InputStream in = System.in) {
        bytes = in.readNBytes((int) Math.min(limit + 1, Integer.MAX_VALUE - 8));
      }
    } else {
      Path path = Path.of(source);
      if (!Files.isRegularFile(path)) {
        throw new ParameterException(spec.commandLine(), "'" + source + "' is not a file");
      }
      if (Files.size(path) > limit) {
        throw new ParameterException(spec.commandLine(), "'" + source + "' is larger than " + Sizes.format(limit));
      }
      bytes = Files.readAllBytes(path);
    }
    if (bytes.length > limit) {
      throw new ParameterException(spec.commandLine(), "the input is larger than " + Sizes.format(limit));
    }
    return bytes;
  }

  /** {@code application/json} when the input is one JSON value (an array, an object), else NDJSON. */
  static String jsonOrNdjson(byte[] body) {
    try {
      PlatformClient.READER.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readTree(body);
      return "application/json";
    } catch (IOException notOneValue) {
      return "application/x-ndjson";
    }
  }
}
