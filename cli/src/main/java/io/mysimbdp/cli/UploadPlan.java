package io.mysimbdp.cli;

import io.mysimbdp.protocol.DataFormat;
import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.TenantConstraints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Which files of a directory to upload, and how, given the tenant's constraints and the files it
 * already has; every other file is skipped with a reason. Pure decision: reads the directory, sends
 * nothing.
 */
public record UploadPlan(List<Upload> uploads, List<Skipped> skipped, int freeSlots) {

  /** A file to upload: {@code name} is its path relative to the directory, with '/'. */
  public record Upload(Path path, String name, DataFormat format, long size, boolean resumable) {}

  public record Skipped(String name, long size, String reason) {}

  public static final String EXTENSIONS = ".csv, .ndjson, .jsonl, .json";

  /** The format a file name's extension says, if any: csv, ndjson (.ndjson, .jsonl) or json. */
  public static Optional<DataFormat> formatOf(String fileName) {
    String lower = fileName.toLowerCase(Locale.ROOT);
    if (lower.endsWith(".csv")) {
      return Optional.of(DataFormat.CSV);
    }
    if (lower.endsWith(".ndjson") || lower.endsWith(".jsonl")) {
      return Optional.of(DataFormat.NDJSON);
    }
    if (lower.endsWith(".json")) {
      return Optional.of(DataFormat.JSON);
    }
    return Optional.empty();
  }

  /**
   * Plans the upload of {@code dir}'s files (in name order; with {@code recursive}, of its
   * sub-directories too). Files above {@code resumableAbove} bytes go with tus.
   */
  public static UploadPlan of(
      Path dir, boolean recursive, TenantConstraints constraints, FileList existing, long resumableAbove)
      throws IOException {
    if (!Files.isDirectory(dir)) {
      throw new IOException(dir + " is not a directory");
    }
    Path root = dir.toRealPath();
    int maxFiles = constraints.maxFiles() != null ? constraints.maxFiles() : existing.maxFiles();
    int freeSlots = Math.max(0, maxFiles - existing.count());
    Long maxMegabytes = constraints.maxFileSizeMegabytes();
    long maxBytes = maxMegabytes == null ? Long.MAX_VALUE : maxMegabytes * 1024 * 1024;
    List<String> allowed = constraints.formats();

    List<Upload> uploads = new ArrayList<>();
    List<Skipped> skipped = new ArrayList<>();
    List<Path> entries = new ArrayList<>();
    collect(root, root, recursive, entries, skipped);
    for (Path entry : entries) {
      String name = root.relativize(entry).toString().replace(entry.getFileSystem().getSeparator(), "/");
      Path target = entry;
      if (Files.isSymbolicLink(entry)) {
        try {
          target = entry.toRealPath();
        } catch (IOException e) {
          skipped.add(new Skipped(name, 0, "broken symbolic link"));
          continue;
        }
        if (!target.startsWith(root)) {
          skipped.add(new Skipped(name, 0, "symbolic link pointing outside " + dir));
          continue;
        }
        if (Files.isDirectory(target)) {
          skipped.add(new Skipped(name, 0, "symbolic link to a directory (not followed)"));
          continue;
        }
      }
      if (!Files.isRegularFile(target, LinkOption.NOFOLLOW_LINKS)) {
        skipped.add(new Skipped(name, 0, "not a regular file"));
        continue;
      }
      long size = Files.size(target);
      Optional<DataFormat> format = formatOf(entry.getFileName().toString());
      if (format.isEmpty()) {
        skipped.add(new Skipped(name, size, "unknown extension (known: " + EXTENSIONS + ")"));
        continue;
      }
      if (allowed != null && !allowed.contains(format.get().id())) {
        skipped.add(
            new Skipped(name, size, "format " + format.get().id() + " not allowed (allowed: " + String.join(", ", allowed) + ")"));
        continue;
      }
      if (size > maxBytes) {
        skipped.add(
            new Skipped(name, size, "larger than the " + maxMegabytes + " MiB limit (" + Sizes.format(size) + ")"));
        continue;
      }
      if (uploads.size() >= freeSlots) {
        skipped.add(
            new Skipped(
                name,
                size,
                "no file slot left (maxFiles " + maxFiles + ", " + existing.count() + " already staged, "
                    + freeSlots + " free)"));
        continue;
      }
      uploads.add(new Upload(target, name, format.get(), size, size > resumableAbove));
    }
    return new UploadPlan(List.copyOf(uploads), List.copyOf(skipped), freeSlots);
  }

  /** The entries under {@code dir} to consider, in name order; hidden ones and directories skipped. */
  private static void collect(Path root, Path dir, boolean recursive, List<Path> entries, List<Skipped> skipped)
      throws IOException {
    List<Path> children;
    try (Stream<Path> list = Files.list(dir)) {
      children = list.sorted().toList();
    }
    for (Path child : children) {
      String name = root.relativize(child).toString().replace(child.getFileSystem().getSeparator(), "/");
      boolean directory = Files.isDirectory(child, LinkOption.NOFOLLOW_LINKS);
      if (child.getFileName().toString().startsWith(".")) {
        skipped.add(new Skipped(name, 0, directory ? "hidden directory" : "hidden file"));
      } else if (directory) {
        if (recursive) {
          collect(root, child, true, entries, skipped);
        } else {
          skipped.add(new Skipped(name, 0, "directory (use --recursive)"));
        }
      } else {
        entries.add(child);
      }
    }
  }
}
