package io.mysimbdp.protocol;

/**
 * The resumable-upload contract: tus 1.0 (core, creation, termination, expiration) under
 * {@code /v1/tenants/{id}/uploads}. Upload-Metadata keys the platform reads: {@code filename},
 * {@code category}, {@code contentType} (the file's media type, as for a plain upload).
 */
public final class Tus {
  public static final String VERSION = "1.0.0";
  public static final String RESUMABLE = "Tus-Resumable";
  public static final String UPLOAD_LENGTH = "Upload-Length";
  public static final String UPLOAD_OFFSET = "Upload-Offset";
  public static final String UPLOAD_METADATA = "Upload-Metadata";
  /** When an unfinished upload expires unless appended to (an RFC 7231 HTTP-date). */
  public static final String UPLOAD_EXPIRES = "Upload-Expires";
  public static final String OFFSET_CONTENT_TYPE = "application/offset+octet-stream";
  /** Answered once an upload is complete: the id of the staged file it became. */
  public static final String FILE_ID = "Mysimbdp-File-Id";

  private Tus() {}
}
