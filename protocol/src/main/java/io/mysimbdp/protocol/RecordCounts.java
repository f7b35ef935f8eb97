package io.mysimbdp.protocol;

/** How many records were read, written (stored) and failed (dead-lettered). */
public record RecordCounts(long read, long written, long failed) {
  public static final RecordCounts NONE = new RecordCounts(0, 0, 0);

  public RecordCounts plus(RecordCounts other) {
    return new RecordCounts(read + other.read, written + other.written, failed + other.failed);
  }
}
