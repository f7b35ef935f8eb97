package io.mysimbdp.cli;

import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.StagedFile;
import io.mysimbdp.protocol.TenantConstraints;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine.Command;
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
      "Files above --resumable-above go with tus 1.0 in --chunk-size pieces and resume after a dropped connection."
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

  @Option(names = "--recursive", description = "upload the files of sub-directories too (names keep the relative path)")
  boolean recursive;

  @Option(
      names = "--retries",
      paramLabel = "N",
      defaultValue = "8",
      description = "failures in a row a resumable upload survives (default ${DEFAULT-VALUE})")
  int retries;

  @Option(
      names = "--retry-backoff",
      paramLabel = "DURATION",
      defaultValue = "500ms",
      converter = Durations.Converter.class,
      description = "first wait before resuming a failed resumable upload, doubling each time up to 10s (default ${DEFAULT-VALUE})")
  Duration retryBackoff;

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
    if (retries < 0) {
      throw new ParameterException(spec.commandLine(), "--retries must not be negative");
    }
    if (!Files.isDirectory(dir)) {
      throw new ParameterException(spec.commandLine(), "DIR '" + dir + "' is not a directory");
    }
    if (category.isBlank()) {
      throw new ParameterException(spec.commandLine(), "--category must not be blank");
    }
    SealedUpload sealing = SealedUpload.of(spec.commandLine(), seal, keyFile); // usage errors before any request
    PlatformClient client = root.client(spec).withRetries(retries, retryBackoff);
    PrintWriter out = spec.commandLine().getOut();

    TenantConstraints constraints = client.constraints();
    FileList existing = client.files();
    UploadPlan plan = UploadPlan.of(dir, recursive, constraints, existing, resumableAbove);
    try (sealing) {
      return uploadPlanned(client, out, constraints, existing, sealing == null ? plan : sealing.seal(plan, out));
    }
  }

  private int uploadPlanned(PlatformClient client, PrintWriter out, TenantConstraints constraints, FileList existing, UploadPlan plan)
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
          futures.add(pool.submit(() -> upload(client, upload, progress)));
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

  private Result upload(PlatformClient client, UploadPlan.Upload upload, UploadProgress progress)
      throws InterruptedException {
    UploadProgress.Task task = progress.start(upload.name(), upload.size());
    long started = System.nanoTime();
    String mediaType = upload.format().mediaType();
    try {
      String detail;
      if (upload.resumable()) {
        PlatformClient.TusResult result =
            client.tusUpload(upload.path(), upload.name(), category, mediaType, chunkSize, task);
        detail = "id " + result.fileId() + " (tus" + (result.resumes() > 0 ? ", resumed " + result.resumes() + "x" : "") + ")";
      } else {
        StagedFile staged = client.upload(upload.path(), upload.name(), category, mediaType, task);
        detail = "id " + staged.id();
      }
      Duration took = Duration.ofNanos(System.nanoTime() - started);
      task.succeeded(Sizes.format(upload.size()) + " in " + Durations.format(took) + ", " + detail);
      return new Result(upload.name(), upload.size(), "uploaded", detail, took);
    } catch (PlatformException e) {
      String reason = e.status() + " " + e.describe();
      task.failed(reason);
      return new Result(upload.name(), upload.size(), "failed", reason, Duration.ofNanos(System.nanoTime() - started));
    } catch (IOException | RuntimeException e) {
      String reason = e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
      task.failed(reason);
      return new Result(upload.name(), upload.size(), "failed", reason, Duration.ofNanos(System.nanoTime() - started));
    }
  }

  private static int summarize(PrintWriter out, List<Result> results, List<UploadPlan.Skipped> skipped, Duration took) {
    Table table = new Table("FILE", "RESULT", "SIZE", "DETAIL").right(2);
    long uploadedBytes = 0;
    int uploaded = 0;
    int failed = 0;
    for (Result result : results) {
      table.row(result.name(), result.outcome(), Sizes.format(result.size()), result.detail());
      if (result.outcome().equals("uploaded")) {
        uploaded++;
        uploadedBytes += result.size();
      } else {
        failed++;
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
        skipped.size(),
        failed,
        Sizes.format(uploadedBytes),
        Durations.format(took),
        uploadedBytes / 1048576.0 / seconds);
    out.flush();
    return failed > 0 ? 1 : 0;
  }
}
