package io.mysimbdp.node.batch.parse;

import java.util.NoSuchElementException;

/**
 * The iterator half of every {@link RecordReader}: reads one record ahead; a subclass's
 * {@link #read} answers the next record, or null (after setting {@link #ended}) at the end.
 */
abstract class LookaheadReader implements RecordReader {
  private ParsedRecord next;
  private long nextBytes;
  private long lastBytes;
  /** Set by a subclass when nothing more can be read. */
  protected boolean ended;

  /** The next record, or null at the end of the file. */
  protected abstract ParsedRecord read();

  /** The bytes of the file the record {@link #read} last answered took (all of them, also past the limit). */
  protected abstract long recordBytes();

  @Override
  public final long lastRecordBytes() {
    return lastBytes;
  }

  @Override
  public final boolean hasNext() {
    if (next == null && !ended) {
      next = read();
      nextBytes = recordBytes();
    }
    return next != null;
  }

  @Override
  public final ParsedRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    ParsedRecord record = next;
    lastBytes = nextBytes;
    next = null;
    return record;
  }
}
