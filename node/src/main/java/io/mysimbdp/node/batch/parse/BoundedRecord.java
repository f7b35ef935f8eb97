package io.mysimbdp.node.batch.parse;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The bytes of one record as a reader scans them, kept up to the record limit: a longer record is
 * scanned to its end (so the next record starts where it should) but only its first bytes are kept,
 * for the dead letter. Memory per reader is bounded by the limit, whatever the file holds. Also the
 * reader's input buffer (unsynchronized: one reader, one thread).
 */
final class BoundedRecord {
  private final int limit;
  private final InputStream in;
  private final byte[] input = new byte[64 * 1024];
  private int inputPos;
  private int inputEnd;
  private byte[] bytes = new byte[1024];
  private int kept;
  private long size;

  BoundedRecord(InputStream in, int limit) {
    this.in = in;
    this.limit = limit;
  }

  /** The next byte of the input, or -1 at its end. */
  int read() throws IOException {
    if (inputPos == inputEnd) {
      int n = in.read(input);
      if (n <= 0) {
        return -1;
      }
      inputPos = 0;
      inputEnd = n;
    }
    return input[inputPos++] & 0xFF;
  }

  void reset() {
    kept = 0;
    size = 0;
  }

  void add(int b) {
    size++;
    if (size <= limit) {
      if (kept == bytes.length) {
        bytes = Arrays.copyOf(bytes, (int) Math.min(limit, Math.max(1024L, 2L * bytes.length)));
      }
      bytes[kept++] = (byte) b;
    }
  }

  boolean tooLong() {
    return size > limit;
  }

  long size() {
    return size;
  }

  /** The kept bytes as text (for a dead letter: the first bytes, not the whole record). */
  String text() {
    return new String(bytes, 0, kept, StandardCharsets.UTF_8);
  }

  byte[] toByteArray() {
    return Arrays.copyOf(bytes, kept);
  }

  boolean isBlank() {
    for (int i = 0; i < kept; i++) {
      byte b = bytes[i];
      if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
        return false;
      }
    }
    return true;
  }
}
