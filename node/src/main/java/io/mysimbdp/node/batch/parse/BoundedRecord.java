package io.mysimbdp.node.batch.parse;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The bytes of one record as a reader scans them, kept up to the record limit: a longer record is
 * scanned to its end (so the next record starts where it should) but only its first bytes are kept,
 * for the dead letter. Memory per reader is bounded by the limit, whatever the file holds.
 */
final class BoundedRecord {
  private final int limit;
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream(1024);
  private long size;

  BoundedRecord(int limit) {
    this.limit = limit;
  }

  void reset() {
    bytes.reset();
    size = 0;
  }

  void add(int b) {
    size++;
    if (size <= limit) {
      bytes.write(b);
    }
  }

  boolean tooLong() {
    return size > limit;
  }

  long size() {
    return size;
  }

  byte[] toByteArray() {
    return bytes.toByteArray();
  }

  /** The kept bytes as text (for a dead letter: the excerpt, not the whole record). */
  String text() {
    return bytes.toString(StandardCharsets.UTF_8);
  }

  boolean isBlank() {
    return text().isBlank();
  }
}
