package io.mysimbdp.node.batch;

/**
 * An upload refused because the tenant already has a live file with the same content (SHA-256):
 * the routes answer {@code 409 duplicate_file} naming {@link #existingFileId()}. Nothing of the
 * refused upload is kept.
 */
public final class DuplicateFile extends RuntimeException {
  private final String existingFileId;

  public DuplicateFile(String existingFileId) {
    super("the tenant already has this file (same SHA-256) as file '" + existingFileId
        + "'; upload it again with duplicate=allow to keep a copy", null, false, false);
    this.existingFileId = existingFileId;
  }

  public String existingFileId() {
    return existingFileId;
  }
}
