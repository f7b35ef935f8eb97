package io.mysimbdp.node.testing;

import java.nio.file.Files;
import java.nio.file.Path;

/** The sample data set the repository ships in {@code examples/} (see examples/README.md). */
public final class ExampleData {
  private ExampleData() {}

  /**
   * {@code examples/water-quality-10k.csv}: 9,999 rows and a header, found from the module's
   * directory (tests) or the repository root (scripts).
   */
  public static Path waterQuality() {
    for (Path candidate :
        new Path[] {Path.of("..", "examples", "water-quality-10k.csv"), Path.of("examples", "water-quality-10k.csv")}) {
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(
        "examples/water-quality-10k.csv not found from " + Path.of("").toAbsolutePath() + ": run from the repository or a module");
  }
}
