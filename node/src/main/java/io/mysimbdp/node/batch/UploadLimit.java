package io.mysimbdp.node.batch;

import akka.http.scaladsl.model.EntityStreamSizeException;
import akka.util.ByteString;
import scala.Option;

/**
 * The tenant's file-size limit, enforced while the body streams. Bytes past the limit are read and
 * dropped (up to {@link #DRAIN_BYTES} more) instead of failing at once, so the client is still
 * listening when the 413 comes; a body that goes on beyond that is cut off.
 */
public final class UploadLimit {
  public static final long DRAIN_BYTES = 64L * 1024 * 1024;

  private final long maxBytes;
  private long seen;

  public UploadLimit(long maxBytes) {
    this.maxBytes = maxBytes;
  }

  /** The bytes to keep: all of them while under the limit, none past it. */
  public ByteString admit(ByteString bytes) {
    long before = seen;
    seen += bytes.size();
    if (seen > maxBytes + DRAIN_BYTES) {
      throw exceeded();
    }
    if (seen <= maxBytes) {
      return bytes;
    }
    return before >= maxBytes ? ByteString.emptyByteString() : bytes.take((int) (maxBytes - before));
  }

  /** Throws when the body was over the limit; call when it has ended. */
  public void check() {
    if (seen > maxBytes) {
      throw exceeded();
    }
  }

  private EntityStreamSizeException exceeded() {
    return new EntityStreamSizeException(maxBytes, Option.apply(seen));
  }
}
