package io.mysimbdp.cli;

import io.mysimbdp.cli.seal.RecordSealer;
import io.mysimbdp.cli.seal.SealSpec;
import io.mysimbdp.cli.seal.SealedFiles;
import io.mysimbdp.cli.seal.Sealer;
import io.mysimbdp.cli.seal.SealingKey;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * {@code upload --seal F --key-file K}: each planned file is written with the chosen fields sealed
 * into a private temporary directory, and that copy is uploaded under the file's name; the copies
 * are deleted afterwards. The key file itself is never uploaded.
 */
final class SealedUpload implements AutoCloseable {
  private final RecordSealer sealer;
  private final Path keyFile;
  /** The sealed copies' directory, made when the first file is sealed. */
  private Path work;

  private SealedUpload(RecordSealer sealer, Path keyFile) {
    this.sealer = sealer;
    this.keyFile = keyFile;
  }

  /** Null when not sealing; a usage error for --seal without --key-file and the like. */
  static SealedUpload of(CommandLine commandLine, String seal, Path keyFile) throws IOException {
    RecordSealer sealer = sealer(commandLine, seal, keyFile);
    return sealer == null ? null : new SealedUpload(sealer, keyFile.toRealPath());
  }

  /**
   * What {@code --seal FIELDS --key-file K} ask for (upload and send alike): null when neither is
   * given; a usage error, before any request, when only one is or either is invalid.
   */
  static RecordSealer sealer(CommandLine commandLine, String seal, Path keyFile) {
    if (seal == null && keyFile == null) {
      return null;
    }
    if (seal == null || keyFile == null) {
      throw new ParameterException(commandLine, "--seal and --key-file go together");
    }
    SealSpec spec;
    try {
      spec = SealSpec.parse(seal);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(commandLine, "Invalid --seal: " + e.getMessage());
    }
    SealingKey key;
    try {
      key = SealingKey.load(keyFile);
    } catch (IOException e) {
      throw new ParameterException(commandLine, "Invalid --key-file: " + e.getMessage());
    }
    return new RecordSealer(Sealer.of(key), spec);
  }

  /** The plan with every upload replaced by its sealed copy (same name, its own size). */
  UploadPlan seal(UploadPlan plan, PrintWriter out) throws IOException {
    List<UploadPlan.Upload> uploads = new ArrayList<>();
    List<UploadPlan.Skipped> skipped = new ArrayList<>(plan.skipped());
    int n = 0;
    for (UploadPlan.Upload upload : plan.uploads()) {
      if (upload.path().toRealPath().equals(keyFile)) {
        skipped.add(new UploadPlan.Skipped(upload.name(), upload.size(), "the key file (never uploaded)"));
        continue;
      }
      if (work == null) {
        work = Files.createTempDirectory("mysimbdp-sealed-"); // owner-only on POSIX
      }
      Path copy = work.resolve((n++) + "-" + upload.path().getFileName());
      SealedFiles.Outcome outcome;
      try {
        outcome = SealedFiles.seal(upload.path(), copy, upload.format(), sealer);
      } catch (IllegalArgumentException e) {
        skipped.add(new UploadPlan.Skipped(upload.name(), upload.size(), "not sealed, not uploaded: " + e.getMessage()));
        continue;
      }
      List<String> unmatched = outcome.unmatched(sealer.spec());
      out.printf(Locale.ROOT, "sealed %s: %d record(s), %s%s%n", upload.name(), outcome.records(), sealer.spec(),
          unmatched.isEmpty() || outcome.records() == 0 ? "" : "; no record has " + String.join(", ", unmatched));
      long size = Files.size(copy);
      uploads.add(new UploadPlan.Upload(copy, upload.name(), upload.format(), size, upload.resumable()));
    }
    out.flush();
    return new UploadPlan(List.copyOf(uploads), List.copyOf(skipped), plan.freeSlots());
  }

  @Override
  public void close() throws IOException {
    if (work == null) {
      return;
    }
    try (Stream<Path> files = Files.walk(work)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
