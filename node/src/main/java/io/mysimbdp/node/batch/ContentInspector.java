package io.mysimbdp.node.batch;

import akka.util.ByteString;
import io.mysimbdp.protocol.DataFormat;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Checks, while a file streams in, that it is what it claims to be: UTF-8 text without NUL bytes,
 * starting the way its format starts ({@code [} or {@code {} for JSON, {@code {} for JSON lines),
 * not empty. Also counts the bytes and computes their SHA-256. One instance per upload, fed in
 * order by one stream; {@link #finish} checks the end (a UTF-8 sequence cut off, an empty file).
 */
public final class ContentInspector {

  /** The content is not what the upload claims; nothing of it may be kept. */
  public static final class ContentRejected extends RuntimeException {
    private final String code;
    private final long offset;

    ContentRejected(String code, String message, long offset) {
      super(message);
      this.code = code;
      this.offset = offset;
    }

    public String code() {
      return code;
    }

    public long offset() {
      return offset;
    }
  }

  /** The whole file arrived, but its SHA-256 is not the one the client declared for it. */
  static ContentRejected checksumMismatch(String declared, Inspection inspection) {
    return new ContentRejected("checksum_mismatch",
        "the file's SHA-256 is " + inspection.sha256() + ", not the declared " + declared, inspection.bytes());
  }

  /** What an accepted file turned out to be. */
  public record Inspection(long bytes, String sha256) {}

  private final DataFormat format;
  private final MessageDigest sha256;
  private long offset;
  /** Continuation bytes still expected by the current UTF-8 sequence. */
  private int pendingContinuations;
  private int sequenceMin;
  private int codePoint;
  private boolean sawContent;

  public ContentInspector(DataFormat format) {
    this.format = format;
    try {
      this.sha256 = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Inspects the next bytes and passes them on unchanged; throws {@link ContentRejected}. */
  public ByteString inspect(ByteString bytes) {
    sha256.update(bytes.toByteBuffer());
    for (int i = 0; i < bytes.size(); i++) {
      int b = bytes.apply(i) & 0xFF;
      checkUtf8(b);
      if (!sawContent && !isWhitespaceOrBom(b)) {
        checkFirstCharacter(b);
        sawContent = true;
      }
      offset++;
    }
    return bytes;
  }

  public Inspection finish() {
    if (pendingContinuations > 0) {
      throw new ContentRejected("invalid_encoding", "the file ends inside a UTF-8 sequence", offset);
    }
    if (!sawContent) {
      throw new ContentRejected("empty_file", "the file is empty", 0);
    }
    return new Inspection(offset, HexFormat.of().formatHex(sha256.digest()));
  }

  private void checkUtf8(int b) {
    if (pendingContinuations > 0) {
      if ((b & 0xC0) != 0x80) {
        throw invalidUtf8();
      }
      codePoint = (codePoint << 6) | (b & 0x3F);
      if (--pendingContinuations == 0
          && (codePoint < sequenceMin || codePoint > 0x10FFFF || (codePoint >= 0xD800 && codePoint <= 0xDFFF))) {
        throw invalidUtf8();
      }
      return;
    }
    if (b == 0) {
      throw new ContentRejected("binary_content", "the file contains a NUL byte: it is not " + format.id() + " text", offset);
    }
    if (b < 0x80) {
      return;
    }
    if ((b & 0xE0) == 0xC0) {
      pendingContinuations = 1;
      sequenceMin = 0x80;
      codePoint = b & 0x1F;
    } else if ((b & 0xF0) == 0xE0) {
      pendingContinuations = 2;
      sequenceMin = 0x800;
      codePoint = b & 0x0F;
    } else if ((b & 0xF8) == 0xF0) {
      pendingContinuations = 3;
      sequenceMin = 0x10000;
      codePoint = b & 0x07;
    } else {
      throw invalidUtf8();
    }
  }

  private ContentRejected invalidUtf8() {
    return new ContentRejected("invalid_encoding", "the file is not valid UTF-8 (at byte " + offset + ")", offset);
  }

  private static boolean isWhitespaceOrBom(int b) {
    // The UTF-8 byte-order mark is EF BB BF.
    return b == ' ' || b == '\t' || b == '\r' || b == '\n' || b == 0xEF || b == 0xBB || b == 0xBF;
  }

  private void checkFirstCharacter(int b) {
    boolean fits =
        switch (format) {
          case JSON -> b == '[' || b == '{';
          case NDJSON -> b == '{';
          case CSV -> b != '[' && b != '{';
        };
    if (!fits) {
      String expected =
          switch (format) {
            case JSON -> "a JSON array or object";
            case NDJSON -> "JSON objects, one per line";
            case CSV -> "CSV with a header row, not JSON";
          };
      throw new ContentRejected(
          "content_mismatch", "the content does not look like " + format.id() + ": expected " + expected, offset);
    }
  }
}
