package io.mysimbdp.protocol;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** The file formats the platform parses, with the media type a client sends them as. */
public enum DataFormat {
  CSV("csv", "text/csv"),
  NDJSON("ndjson", "application/x-ndjson"),
  JSON("json", "application/json");

  private final String id;
  private final String mediaType;

  DataFormat(String id, String mediaType) {
    this.id = id;
    this.mediaType = mediaType;
  }

  public String id() {
    return id;
  }

  public String mediaType() {
    return mediaType;
  }

  public static Optional<DataFormat> fromId(String id) {
    String wanted = id.trim().toLowerCase(Locale.ROOT);
    // "jsonl" and "json-lines" are the names some tenants use for NDJSON.
    if (wanted.equals("jsonl") || wanted.equals("json-lines")) {
      return Optional.of(NDJSON);
    }
    return Arrays.stream(values()).filter(f -> f.id.equals(wanted)).findFirst();
  }

  public static Optional<DataFormat> fromMediaType(String mediaType) {
    String wanted = mediaType.toLowerCase(Locale.ROOT);
    return Arrays.stream(values()).filter(f -> f.mediaType.equals(wanted)).findFirst();
  }

  public static List<String> ids() {
    return Arrays.stream(values()).map(DataFormat::id).toList();
  }
}
