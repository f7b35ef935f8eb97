package io.mysimbdp.node.batch;

import io.mysimbdp.node.http.ApiException;
import java.util.Set;
import java.util.regex.Pattern;

/** Rules for the names clients give: file names (metadata only), categories, collections. */
public final class Names {
  public static final int MAX_FILE_NAME = 255;
  public static final String DEFAULT_CATEGORY = "default";
  private static final Pattern CATEGORY = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}");
  private static final Pattern COLLECTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  /** The platform's own collections in a tenant database: not readable as data. */
  private static final Set<String> INTERNAL = Set.of("uploads", "ingestion_jobs", "ingestion_progress", "stream_state", "ingestion_stats",
      "functions", "function_versions", "categories", "quality_rules", "quality_stats");

  private Names() {}

  /**
   * The file name to keep: the last segment of what the client sent ({@code ../../etc/passwd}
   * becomes {@code passwd}); it is only ever shown, never used as a path.
   */
  public static String fileName(String raw) {
    if (raw == null || raw.isBlank()) {
      throw new ApiException(400, "invalid_file_name", "the query parameter 'name' (the file's name) is required");
    }
    if (raw.length() > MAX_FILE_NAME) {
      throw new ApiException(400, "invalid_file_name",
          "the file name is " + raw.length() + " characters long; the limit is " + MAX_FILE_NAME);
    }
    if (raw.chars().anyMatch(c -> c < 0x20 || c == 0x7F)) {
      throw new ApiException(400, "invalid_file_name", "the file name contains control characters");
    }
    String base = raw.substring(Math.max(raw.lastIndexOf('/'), raw.lastIndexOf('\\')) + 1).strip();
    if (base.isEmpty() || base.equals(".") || base.equals("..")) {
      throw new ApiException(400, "invalid_file_name", "'" + raw + "' does not end in a file name");
    }
    return base;
  }

  public static String category(String raw) {
    if (raw == null || raw.isEmpty()) {
      return DEFAULT_CATEGORY;
    }
    if (!CATEGORY.matcher(raw).matches()) {
      throw new ApiException(400, "invalid_category",
          "a category is 1-64 letters, digits, '_', '-' or '.', starting with a letter or digit");
    }
    return raw;
  }

  /** A tenant's data collection named in a path: its own records, never the platform's files. */
  public static String dataCollection(String raw) {
    if (!COLLECTION.matcher(raw).matches() || INTERNAL.contains(raw)) {
      throw new ApiException(404, "collection_not_found", "there is no data collection '" + raw + "'");
    }
    return raw;
  }

  /** Whether a category may write its records to {@code raw}: a valid name, none of the platform's. */
  public static boolean isTargetCollection(String raw) {
    return raw != null && COLLECTION.matcher(raw).matches() && !INTERNAL.contains(raw) && !raw.equals("dead_letters");
  }
}
