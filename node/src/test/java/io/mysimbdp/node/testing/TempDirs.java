package io.mysimbdp.node.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Temporary directories of tests and benchmarks (a node's store and broker data: gigabytes at 10,000 tenants). */
public final class TempDirs {
  private TempDirs() {}

  /** Deletes {@code root} and everything under it, as far as it can: what is left is a temp dir's. */
  public static void deleteQuietly(Path root) {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // left behind in the temp dir
    }
  }

  /** Deletes what {@code work} holds but its {@code *.log} files: a run's data goes, its logs stay to be read. */
  public static void deleteAllButLogs(Path work) {
    try (Stream<Path> children = Files.list(work)) {
      children.filter(p -> !(Files.isRegularFile(p) && p.getFileName().toString().endsWith(".log"))).forEach(TempDirs::deleteQuietly);
    } catch (IOException e) {
      // left behind in the temp dir
    }
  }
}
