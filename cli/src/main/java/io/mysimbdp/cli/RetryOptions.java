package io.mysimbdp.cli;

import java.time.Duration;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code --retries} and {@code --retry-backoff}, shared by the commands that send again (a picocli mixin). */
final class RetryOptions {
  @Option(
      names = "--retries",
      paramLabel = "N",
      defaultValue = "8",
      description = "failures in a row survived before giving up (default ${DEFAULT-VALUE})")
  int retries;

  @Option(
      names = "--retry-backoff",
      paramLabel = "DURATION",
      defaultValue = "500ms",
      converter = Durations.Converter.class,
      description = "first wait after a failure the platform gave no Retry-After for, doubling up to 10s (default ${DEFAULT-VALUE})")
  Duration backoff;

  /** {@code client} with these retries; a usage error for a negative count. */
  PlatformClient apply(CommandSpec spec, PlatformClient client) {
    if (retries < 0) {
      throw new ParameterException(spec.commandLine(), "--retries must not be negative");
    }
    return client.withRetries(retries, backoff);
  }
}
