package io.mysimbdp.cli.seal;

import io.mysimbdp.protocol.SealedEnvelope;
import io.mysimbdp.protocol.SealedEnvelope.Mode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Seals the chosen fields of records before they leave the tenant's machine: JSON records (a map,
 * as from NDJSON, a JSON file or a stream message) get {@code {"$sealed":"<base64url>"}} objects,
 * CSV rows get {@code $sealed:<base64url>} cells. Thread-safe; this is the API {@code upload} and
 * {@code send} use, and what an embedding application calls.
 */
public final class RecordSealer {
  private final Sealer sealer;
  private final SealSpec spec;

  public RecordSealer(Sealer sealer, SealSpec spec) {
    this.sealer = sealer;
    this.spec = spec;
  }

  public SealSpec spec() {
    return spec;
  }

  /**
   * A copy of the record with the chosen fields sealed (fields it does not have are left out; an
   * already sealed value is kept). Nested maps on a dotted path are copied, not modified.
   */
  public Map<String, Object> seal(Map<String, ?> record) {
    Map<String, Object> out = new LinkedHashMap<>(record);
    spec.fields().forEach((name, mode) -> sealPath(out, name, mode));
    return out;
  }

  /** How many of the chosen fields the record has (to warn about a name that matches nothing). */
  public List<String> present(Map<String, ?> record) {
    List<String> found = new ArrayList<>();
    for (String name : spec.fields().keySet()) {
      if (record.containsKey(name) || nested(record, name) != null) {
        found.add(name);
      }
    }
    return found;
  }

  @SuppressWarnings("unchecked")
  private void sealPath(Map<String, Object> record, String name, Mode mode) {
    if (record.containsKey(name)) {
      record.put(name, sealJson(record.get(name), mode));
      return;
    }
    int dot = name.indexOf('.');
    while (dot > 0) {
      String head = name.substring(0, dot);
      if (record.get(head) instanceof Map<?, ?> inner) {
        Map<String, Object> copy = new LinkedHashMap<>((Map<String, Object>) inner);
        sealPath(copy, name.substring(dot + 1), mode);
        record.put(head, copy);
        return;
      }
      dot = name.indexOf('.', dot + 1);
    }
  }

  private static Object nested(Map<String, ?> record, String name) {
    int dot = name.indexOf('.');
    while (dot > 0) {
      if (record.get(name.substring(0, dot)) instanceof Map<?, ?> inner) {
        String rest = name.substring(dot + 1);
        @SuppressWarnings("unchecked")
        Map<String, ?> m = (Map<String, ?>) inner;
        return m.containsKey(rest) ? m.get(rest) : nested(m, rest);
      }
      dot = name.indexOf('.', dot + 1);
    }
    return null;
  }

  /** One JSON value in its JSON sealed form; an already sealed value is kept as it is. */
  public Object sealJson(Object value, Mode mode) {
    if (value instanceof Map<?, ?> map && SealedEnvelope.isJson(map)) {
      return value;
    }
    return sealer.sealValue(value, mode).json();
  }

  /** One CSV cell in its text sealed form (the cell is sealed as a JSON string). */
  public String sealCell(String cell, Mode mode) {
    if (SealedEnvelope.isText(cell)) {
      return cell;
    }
    return sealer.sealValue(cell, mode).text();
  }

  /**
   * The columns of a CSV header to seal, in the order of the header: {@code modes[i]} null for a
   * column left as it is. A chosen column the header lacks is an error: a misspelt name must not
   * let the column go out in the clear.
   */
  public Mode[] columns(List<String> header) {
    Mode[] modes = new Mode[header.size()];
    List<String> missing = new ArrayList<>();
    spec.fields().forEach((name, mode) -> {
      int i = header.indexOf(name);
      if (i < 0) {
        missing.add(name);
      } else {
        modes[i] = mode;
      }
    });
    if (!missing.isEmpty()) {
      throw new IllegalArgumentException("no column " + String.join(", ", missing) + " in the header (columns: "
          + String.join(", ", header) + ")");
    }
    return modes;
  }
}
