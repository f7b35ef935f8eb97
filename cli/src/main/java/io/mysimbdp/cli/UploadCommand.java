package io.mysimbdp.cli;

import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.StagedFile;
import io.mysimbdp.protocol.TenantConstraints;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mysimbdp upload DIR}: reads the tenant's constraints and staged files, skips what the
 * platform would refuse, uploads the rest in parallel (big files resumable with tus) and prints a
 * summary. Exit 1 when an upload failed.
 */
@Command(
    name = "upload",
    mixinStandardHelpOptions = true,
    description = {
      "Uploads the files of DIR to your staging area, in parallel.",
      "Formats come from the extension: .csv (csv), .ndjson/.jsonl (ndjson), .json (json).",
      "Skipped, with the reason: hidden files, unknown extensions, formats or sizes your constraints refuse,"
          + " files beyond your free file slots, non-regular files, symbolic links out of DIR.",
      "Files above --resumable-above go with tus 1.0 in --chunk-size pieces and resume after a dropped connection;"
          + " a resumable upload cut short (the CLI killed, the network gone) goes on from the platform's offset"
          + " when the same file is uploaded again (its upload URL is kept by the file's size, mtime and SHA-256"
          + " in ~/.mysimbdp/uploads.json, or $XDG_STATE_HOME/mysimbdp/uploads.json, mode 0600).",
      "A file whose content the platform already has (staged or ingested) is skipped: 'same as file <id>'"
          + " (409 duplicate_file), so running upload twice stores every record once; --allow-duplicate uploads a copy."
    })
final class UploadCommand implements Callable<Integer> {

  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIR", description = "the directory whose files to upload")
  Path dir;

  @Option(names = "--category", paramLabel = "C", defaultValue = "default", description = "category of the uploaded files (default '${DEFAULT-VALUE}')")
  String category;

  @Option(names = "--parallel", paramLabel = "N", defaultValue = "4", description = "uploads at once (default ${DEFAULT-VALUE})")
  int parallel;

  @Option(
      names = "--resumable-above",
      paramLabel = "SIZE",
      defaultValue = "64MB",
      converter = Sizes.Converter.class,
      description = "files larger than this go with tus, resumable (default ${DEFAULT-VALUE}; KB/MB/GB are 1024-based)")
  long resumableAbove;

  @Option(
      names = "--chunk-size",
      paramLabel = "SIZE",
      defaultValue = "16MB",
      converter = Sizes.Converter.class,
      description = "bytes per tus PATCH (default ${DEFAULT-VALUE})")
  long chunkSize;

  @Option(
      names = "--allow-duplicate",
      description = "upload files whose content the platform already has as new copies (duplicate=allow)")
  boolean allowDuplicate;

  @Option(names = "--recursive", description = "upload the files of sub-directories too (names keep the relative path)")
  boolean recursive;

  @Mixin RetryOptions retry;

  @Option(names = "--seal", paramLabel = "FIELDS",
      description = "seal these columns/fields with your key before upload: col1,col2:det (randomized unless :det); see docs/sealing.md")
  String seal;

  @Option(names = "--key-file", paramLabel = "K", description = "the key file (mysimbdp keygen) --seal seals with")
  Path keyFile;

  /** How one file ended. */
  record Result(String name, long size, String outcome, String detail, Duration took) {}

  @Override
  public Integer call() throws Exception {
    if (parallel < 1 || parallel > 64) {
      throw new ParameterException(spec.commandLine(), "--parallel must be between 1 and 64, was " + parallel);
    }
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "DIR '" + dir + "' is not a directory");
    }
    if (category.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--category must not be blank");
    }
    SealedUpload sealing = SealedUpload.of(spec.commandLine(), seal, keyFile); // usage errors before any request
    PlatformClient client = retry.apply(spec, root.client(spec));
    PrintWriter out = spec.commandLine().getOut();
    UploadState state = UploadState.standard();

    TenantConstraints constraints = client.constraints();
    FileList existing = client.files();
    UploadPlan plan = UploadPlan.of(dir, recursive, constraints, existing, resumableAbove);
    try (sealing) {
      return uploadPlanned(client, state, out, constraints, existing, sealing == null ? plan : sealing.seal(plan, out));
    }
  }

  private int uploadPlanned(
      PlatformClient client, UploadState state, PrintWriter out, TenantConstraints constraints, FileList existing, UploadPlan plan)
      throws Exception {
    long totalBytes = plan.uploads().stream().mapToLong(UploadPlan.Upload::size).sum();
    out.printf(
        Locale.ROOT,
        "%d file(s) to upload (%s, %d resumable), %d skipped; %d of %d file slots free%n",
        plan.uploads().size(),
        Sizes.format(totalBytes),
        plan.uploads().stream().filter(UploadPlan.Upload::resumable).count(),
        plan.skipped().size(),
        plan.freeSlots(),
        constraints.maxFiles() != null ? constraints.maxFiles() : existing.maxFiles());
    out.flush();

    long started = System.nanoTime();
    List<Result> results = new ArrayList<>();
    if (!plan.uploads().isEmpty()) {
      ExecutorService pool = Executors.newFixedThreadPool(Math.min(parallel, plan.uploads().size()));
      try (UploadProgress progress = UploadProgress.create(out, Mysimbdp.terminal, totalBytes)) {
        List<Future<Result>> futures = new ArrayList<>();
        for (UploadPlan.Upload upload : plan.uploads()) {
          futures.add(pool.submit(() -> upload(client, state, upload, progress)));
        }
        for (Future<Result> future : futures) {
          try {
            results.add(future.get());
          } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
    Duration took = Duration.ofNanos(System.nanoTime() - started);
    return summarize(out, results, plan.skipped(), took);
  }

  private Result upload(PlatformClient client, UploadState state, UploadPlan.Upload upload, UploadProgress progress)
      throws InterruptedException {
    UploadProgress.Task task = progress.start(upload.name(), upload.size());
    long started = System.nanoTime();
    String mediaType = upload.format().mediaType();
    try {
      String detail;
      if (upload.resumable()) {
        detail = resumable(client, state, upload, mediaType, task);
      } else {
        StagedFile staged = client.upload(upload.path(), upload.name(), category, mediaType, allowDuplicate, task);
        detail = "id " + staged.id();
      }
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      task.succeeded(Sizes.format(upload.size()) + " in " + Durations.format(took) + ", " + detail);
      return new Result(upload.name(), upload.size(), "uploaded", detail, took);
    } catch (PlatformException e) {
      Optional<String> existing = duplicateOf(e);
      if (existing.isPresent()) {
        String detail = "same as file " + existing.get();
        task.skipped(detail);
        return new Result(upload.name(), upload.size(), "skipped", detail, Duration.ofNanos(System.nanoTime() - started));
      }
      String reason = e.status() + " " + e.describe();
      task.failed(reason);
      return new Result(upload.name(), upload.size(), "failed", reason, Duration.ofNanos(System.nanoTime() - started));
    } catch (IOException | RuntimeException e) {
      String reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      task.failed(reason);
      return new Result(upload.name(), upload.size(), "failed", reason, Duration.ofNanos(System.nanoTime() - started));
    }
  }

  /**
   * A tus upload that goes on where an earlier run of this CLI left it (the server's offset), or a
   * new one, kept in the state file until it completes.
   */
  private String resumable(PlatformClient client, UploadState state, UploadPlan.Upload upload, String mediaType, UploadProgress.Task task)
      throws IOException, InterruptedException {
    String sha256 = UploadState.sha256(upload.path());
    String fingerprint = UploadState.fingerprint(client.baseUrl(), client.tenant(), upload.path(), sha256);
    Optional<UploadState.Entry> earlier = state.get(fingerprint);
    PlatformClient.TusResult result = null;
    String resumedFrom = "";
    if (earlier.isPresent()) {
      URI location = URI.create(earlier.get().location());
      try {
        PlatformClient.UploadStatus status = client.uploadStatus(location);
        if (status.length().isPresent() && status.length().getAsLong() != upload.size()) {
          state.remove(fingerprint);
        } else {
          task.resuming(status.offset(), "an earlier run stopped there");
          resumedFrom = ", resumed at " + Sizes.format(status.offset()) + " from an earlier run";
          result =
              status.offset() >= upload.size() && status.fileId().isPresent()
                  ? new PlatformClient.TusResult(status.fileId().get(), location, upload.size(), 0)
                  : continueKept(client, state, fingerprint, upload, location, status.offset(), task);
        }
      } catch (PlatformException gone) {
        // Expired (410) or forgotten (404): that upload cannot go on; start a new one.
        if (gone.status() != 404 && gone.status() != 410) {
          throw gone;
        }
        state.remove(fingerprint);
        resumedFrom = "";
      }
    }
    if (result == null) {
      URI location = client.createUpload(upload.size(), upload.name(), category, mediaType, sha256, allowDuplicate);
      state.put(fingerprint, new UploadState.Entry(location.toString(), upload.name(), Instant.now()));
      result = continueKept(client, state, fingerprint, upload, location, 0, task);
    }
    state.remove(fingerprint);
    return "id " + result.fileId() + " (tus" + (result.resumes() > 0 ? ", resumed " + result.resumes() + "x" : "") + resumedFrom + ")";
  }

  private PlatformClient.TusResult continueKept(
      PlatformClient client, UploadState state, String fingerprint, UploadPlan.Upload upload, URI location, long offset,
      UploadProgress.Task task)
      throws IOException, InterruptedException {
    try {
      return client.continueUpload(upload.path(), location, offset, chunkSize, task);
    } catch (PlatformException e) {
      if (e.status() == 404 || e.status() == 410) {
        state.remove(fingerprint); // nothing left to resume
      }
      throw e;
    }
  }

  /** The existing file's id when the platform refused an upload as {@code 409 duplicate_file}. */
  static Optional<String> duplicateOf(PlatformException e) {
    if (e.status() != 409 || !"duplicate_file".equals(e.error().code())) {
      return Optional.empty();
    }
    Object id = e.error().details() == null ? null : e.error().details().get("fileId");
    return Optional.of(id == null ? "(unnamed)" : id.toString());
  }

  private static int summarize(PrintWriter out, List<Result> results, List<UploadPlan.Skipped> skipped, Duration took) {
    Table table = new Table("FILE", "RESULT", "SIZE", "DETAIL").right(2);
    long uploadedBytes = 0;
    int uploaded = 0;
    int duplicates = 0;
    int failed = 0;
    for (Result result : results) {
      table.row(result.name(), result.outcome(), Sizes.format(result.size()), result.detail());
      switch (result.outcome()) {
        case "uploaded" -> {
          uploaded++;
          uploadedBytes += result.size();
        }
        case "skipped" -> duplicates++;
        default -> failed++;
      }
    }
    for (UploadPlan.Skipped skip : skipped) {
      table.row(skip.name(), "skipped", skip.size() > 0 ? Sizes.format(skip.size()) : "", skip.reason());
    }
    out.println();
    if (!table.isEmpty()) {
      table.print(out);
      out.println();
    }
    double seconds = Math.max(took.toNanos() / 1e9, 1e-3);
    out.printf(
        Locale.ROOT,
        "uploaded %d, skipped %d, failed %d; %s in %s (%.1f MiB/s)%n",
        uploaded,
        skipped.size() + duplicates,
        failed,
        Sizes.format(uploadedBytes),
        Durations.format(took),
        uploadedBytes / 1048576.0 / seconds);
    out.flush();
    return failed > 0 ? 1 : 0;
  }
}
