package io.mysimbdp.cli.seal;

/** A sealed value that cannot be opened: no key of its id, altered, or sealed with another key. */
public final class UnsealException extends Exception {
  public UnsealException(String message) {
    super(message);
  }
}
