package io.mysimbdp.node.batch;

import io.mysimbdp.protocol.RecordCounts;
import io.mysimbdp.protocol.StagedFile;
import org.bson.Document;

/** A staged file's GridFS document as the API shows it. */
public final class StagedFileViews {
  public static final String STAGED = "staged";
  /** Claimed by an ingestion job that has not reached it yet. */
  public static final String QUEUED = "queued";
  public static final String INGESTING = "ingesting";
  public static final String INGESTED = "ingested";
  public static final String FAILED = "failed";

  private StagedFileViews() {}

  public static StagedFile toApi(Document file) {
    Document meta = file.get("metadata", Document.class);
    return new StagedFile(
        file.getString("_id"),
        meta.getString("name"),
        meta.getString("category"),
        meta.getString("format"),
        ((Number) file.get("length")).longValue(),
        meta.getString("sha256"),
        meta.getString("state"),
        file.getDate("uploadDate").toInstant(),
        counts(meta.get("records", Document.class)));
  }

  public static RecordCounts counts(Document records) {
    if (records == null) {
      return RecordCounts.NONE;
    }
    return new RecordCounts(longOf(records, "read"), longOf(records, "written"), longOf(records, "failed"));
  }

  public static Document countsDocument(RecordCounts counts) {
    return new Document("read", counts.read()).append("written", counts.written()).append("failed", counts.failed());
  }

  private static long longOf(Document d, String key) {
    return d.get(key) instanceof Number n ? n.longValue() : 0;
  }
}
