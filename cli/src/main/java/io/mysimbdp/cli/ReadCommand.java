package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mysimbdp.cli.seal.Sealer;
import io.mysimbdp.cli.seal.SealingKey;
import io.mysimbdp.cli.seal.UnsealException;
import io.mysimbdp.protocol.SealedEnvelope;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mysimbdp read COLLECTION}: pages through the tenant's stored records ({@code GET
 * data/{collection}}, following its {@code next} cursor) and prints them as NDJSON, sealed fields
 * opened with the key files given. A value that does not open (altered, or no key for it) is
 * reported on stderr naming the record and the field; the other records are printed; exit 1.
 */
@Command(
    name = "read",
    mixinStandardHelpOptions = true,
    description = {
      "Prints the records of COLLECTION as NDJSON (one JSON object a line), sealed fields opened with your key files.",
      "Without --key-file sealed fields are printed as they are stored: {\"$sealed\":\"...\"}.",
      "--where FIELD=VALUE keeps the records whose FIELD is VALUE: for a deterministically sealed field (upload --seal F:det)"
          + " VALUE is sealed with each key and the platform finds the records by ciphertext (it learns only which records match)."
    })
final class ReadCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS).build();

  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "COLLECTION", description = "the collection (a category's target; default 'records')")
  String collection;

  @Option(names = "--key-file", paramLabel = "K", description = "a key file to open sealed fields with; repeat it for older keys (rotation)")
  List<Path> keyFiles = new ArrayList<>();

  @Option(names = "--limit", paramLabel = "N", description = "print at most N records (default: all)")
  Long limit;

  @Option(names = "--page-size", paramLabel = "N", defaultValue = "500", description = "records per request, 1-1000 (default ${DEFAULT-VALUE})")
  int pageSize;

  @Option(names = "--where", paramLabel = "FIELD=VALUE", description = "only records whose FIELD (a dotted path for nested ones) is VALUE (text); repeat for several (all must hold)")
  Map<String, String> where = new LinkedHashMap<>();

  /** One --where condition: the plain value, and the ciphertexts it has sealed deterministically under each key. */
  private record Condition(String field, String value, Set<String> sealed) {}

  @Override
  public Integer call() throws Exception {
    if (pageSize < 1 || pageSize > 1000) {
      throw new ParameterException(spec.commandLine(), "--page-size must be between 1 and 1000");
    }
    if (limit != null && limit < 1) {
      throw new ParameterException(spec.commandLine(), "--limit must be at least 1");
    }
    List<SealingKey> keys = new ArrayList<>();
    for (Path file : keyFiles) {
      try {
        keys.add(SealingKey.load(file));
      } catch (IOException e) {
        throw new ParameterException(spec.commandLine(), "Invalid --key-file: " + e.getMessage());
      }
    }
    Sealer opener;
    try {
      opener = new Sealer(null, keys);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid --key-file: " + e.getMessage());
    }
    if (!where.isEmpty() && keys.isEmpty()) {
      spec.commandLine().getErr().println("note: without --key-file, --where matches plain values only, never sealed ones");
    }
    List<Condition> conditions = new ArrayList<>();
    for (Map.Entry<String, String> w : where.entrySet()) {
      Set<String> sealed = new HashSet<>();
      for (SealingKey key : keys) {
        sealed.add(Sealer.of(key).sealValue(w.getValue(), SealedEnvelope.Mode.DETERMINISTIC).base64());
      }
      conditions.add(new Condition(w.getKey(), w.getValue(), sealed));
    }
    // The first condition goes to the platform (an exact-value query: the plain text, or its
    // deterministic ciphertext under each key); every condition is checked here as well.
    String serverField = conditions.isEmpty() ? null : conditions.get(0).field();
    String serverEquals = null;
    if (serverField != null) {
      ArrayNode any = JSON.createArrayNode().add(conditions.get(0).value());
      conditions.get(0).sealed().forEach(b64 -> any.addObject().put(SealedEnvelope.JSON_KEY, b64));
      serverEquals = JSON.writeValueAsString(any);
    }
    PlatformClient client = root.client(spec);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    long printed = 0;
    long failed = 0;
    String after = null;
    do {
      JsonNode page = JSON.readTree(client.dataPage(collection, pageSize, after, serverField, serverEquals));
      for (JsonNode node : page.path("records")) {
        if (!(node instanceof ObjectNode record) || !matches(record, conditions)) {
          continue;
        }
        List<String> problems = new ArrayList<>();
        JsonNode opened = keys.isEmpty() ? record : open(record, "", opener, problems);
        if (problems.isEmpty()) {
          out.println(JSON.writeValueAsString(opened));
          printed++;
        } else {
          failed++;
          for (String problem : problems) {
            err.println("error: record " + record.path("_id").asText() + ": " + problem);
          }
        }
        if (limit != null && printed + failed >= limit) {
          break;
        }
      }
      JsonNode next = page.path("next");
      after = next.isTextual() ? next.asText() : null;
    } while (after != null && (limit == null || printed + failed < limit));
    out.flush();
    if (failed > 0) {
      err.println("error: " + failed + " record(s) could not be opened (printed " + printed + ")");
    }
    err.flush();
    return failed > 0 ? 1 : 0;
  }

  private static boolean matches(ObjectNode record, List<Condition> conditions) {
    for (Condition c : conditions) {
      JsonNode value = at(record, c.field());
      if (value == null) {
        return false;
      }
      boolean ok = value.isObject() && value.size() == 1 && value.path(SealedEnvelope.JSON_KEY).isTextual()
          ? c.sealed().contains(value.path(SealedEnvelope.JSON_KEY).asText())
          : value.isValueNode() && value.asText().equals(c.value());
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** The value at a field name, or at a dotted path into nested objects. */
  private static JsonNode at(JsonNode record, String field) {
    if (record.has(field)) {
      return record.get(field);
    }
    int dot = field.indexOf('.');
    while (dot > 0) {
      JsonNode inner = record.get(field.substring(0, dot));
      if (inner != null && inner.isObject()) {
        JsonNode found = at(inner, field.substring(dot + 1));
        if (found != null) {
          return found;
        }
      }
      dot = field.indexOf('.', dot + 1);
    }
    return null;
  }

  /** The node with its sealed values opened; a value that does not open is added to {@code problems}. */
  private static JsonNode open(JsonNode node, String path, Sealer opener, List<String> problems) {
    if (node.isObject()) {
      if (node.size() == 1 && node.path(SealedEnvelope.JSON_KEY).isTextual()) {
        try {
          return JSON.valueToTree(opener.openValue(SealedEnvelope.parseBase64(node.path(SealedEnvelope.JSON_KEY).asText())));
        } catch (UnsealException | SealedEnvelope.MalformedException e) {
          problems.add("field '" + path + "': " + e.getMessage());
          return node;
        }
      }
      ObjectNode copy = JSON.createObjectNode();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        copy.set(e.getKey(), open(e.getValue(), path.isEmpty() ? e.getKey() : path + "." + e.getKey(), opener, problems));
      }
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JSON.createArrayNode();
      int i = 0;
      for (JsonNode item : node) {
        copy.add(open(item, path + "[" + i++ + "]", opener, problems));
      }
      return copy;
    }
    return node;
  }
}
