package io.mysimbdp.node.batch.parse;

import java.util.NoSuchElementException;

/**
 * The iterator half of every {@link RecordReader}: reads one record ahead; a subclass's
 * {@link #read} answers the next record, or null (after setting {@link #ended}) at the end.
 */
abstract class LookaheadReader implements RecordReader {
  private ParsedRecord next;
  /** Set by a subclass when nothing more can be read. */
  protected boolean ended;

  /** The next record, or null at the end of the file. */
  protected abstract ParsedRecord read();

  @Override
  public final boolean hasNext() {
    if (next == null && !ended) {
      next = read();
    }
    return next != null;
  }

  @Override
  public final ParsedRecord next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    ParsedRecord record = next;
    next = null;
    return record;
  }
}
