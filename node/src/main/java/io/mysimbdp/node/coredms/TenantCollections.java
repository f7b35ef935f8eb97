package io.mysimbdp.node.coredms;

import io.mysimbdp.node.errors.Refusal;
import java.util.Set;
import java.util.regex.Pattern;

/** The layout of a tenant's database: which collections hold its records and which are the platform's own. */
public final class TenantCollections {
  private static final Pattern COLLECTION = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,63}");
  /** The platform's own collections in a tenant database: not readable as data. */
  private static final Set<String> INTERNAL = Set.of("uploads", "ingestion_jobs", "ingestion_progress", "stream_state", "ingestion_stats",
      "functions", "function_versions", "categories", "quality_rules", "quality_stats");

  private TenantCollections() {}

  /** A tenant's data collection named in a path: its own records, never the platform's files. */
  public static String dataCollection(String raw) {
    if (!COLLECTION.matcher(raw).matches() || INTERNAL.contains(raw)) {
      throw new Refusal(Refusal.Kind.NOT_FOUND, "collection_not_found", "there is no data collection '" + raw + "'");
    }
    return raw;
  }

  /** Whether a category may write its records to {@code raw}: a valid name, none of the platform's. */
  public static boolean isTargetCollection(String raw) {
    return raw != null && COLLECTION.matcher(raw).matches() && !INTERNAL.contains(raw) && !raw.equals("dead_letters");
  }
}
