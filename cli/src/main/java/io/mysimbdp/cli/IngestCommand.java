package io.mysimbdp.cli;

import io.mysimbdp.protocol.IngestionJob;
import io.mysimbdp.protocol.RecordCounts;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mysimbdp ingest}: starts a batch ingestion job of staged files and follows it to its end.
 * Exit 1 when the job failed.
 */
@Command(
    name = "ingest",
    mixinStandardHelpOptions = true,
    description = {
      "Starts ingesting staged files (the ones given, or all staged files) and follows the job until it succeeds or fails.",
      "Exit code 1 when the job failed."
    })
final class IngestCommand implements Callable<Integer> {
  private static final Set<String> FILE_DONE = Set.of("succeeded", "ingested", "failed");
  private static final int POLL_FAILURES_TOLERATED = 5;

  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Option(names = "--files", split = ",", paramLabel = "ID", description = "ids of the staged files to ingest (default: every staged file)")
  List<String> files;

  @Option(
      names = "--follow",
      negatable = true,
      defaultValue = "true",
      fallbackValue = "true",
      description = "follow the job until it ends (default); --no-follow only starts it")
  boolean follow;

  @Option(
      names = "--poll",
      paramLabel = "DURATION",
      defaultValue = "1s",
      converter = Durations.Converter.class,
      description = "how often to ask for the job's progress (default ${DEFAULT-VALUE})")
  Duration poll;

  @Override
  public Integer call() throws Exception {
    PlatformClient client = root.client(spec);
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    IngestionJob job = client.startIngestion(files);
    out.println("ingestion job " + job.id() + " " + job.state()
        + (files == null || files.isEmpty() ? " (all staged files)" : " (" + files.size() + " file(s))"));
    out.flush();
    if (!follow) {
      return 0;
    }
    boolean terminal = Mysimbdp.terminal;
    String lastLine = null;
    int pollFailures = 0;
    while (!finished(job)) {
      Thread.sleep(poll.toMillis());
      try {
        job = client.job(job.id());
        pollFailures = 0;
      } catch (IOException e) {
        if (++pollFailures > POLL_FAILURES_TOLERATED) {
          throw e;
        }
        err.println("warning: could not read the job (" + e.getClass().getSimpleName() + "), retrying");
        err.flush();
        continue;
      }
      String line = progressLine(job);
      if (terminal) {
        out.print("\r\033[K" + line);
        out.flush();
      } else if (!line.equals(lastLine)) {
        out.println(line);
        out.flush();
      }
      lastLine = line;
    }
    if (terminal && lastLine != null) {
      out.println();
    }
    printResult(out, job);
    return "failed".equals(job.state()) ? 1 : 0;
  }

  private static boolean finished(IngestionJob job) {
    return "succeeded".equals(job.state()) || "failed".equals(job.state());
  }

  private static String progressLine(IngestionJob job) {
    RecordCounts records = Objects.requireNonNullElse(job.records(), RecordCounts.NONE);
    StringBuilder line = new StringBuilder("job ").append(job.id()).append(' ').append(job.state());
    if (job.files() != null && !job.files().isEmpty()) {
      long done = job.files().stream().filter(f -> f.state() != null && FILE_DONE.contains(f.state())).count();
      line.append(": files ").append(done).append('/').append(job.files().size());
    }
    line.append(String.format(
        Locale.ROOT,
        ", records read %d written %d failed %d, %s",
        records.read(),
        records.written(),
        records.failed(),
        Sizes.format(job.bytes())));
    if (job.recordsPerSecond() > 0) {
      line.append(String.format(Locale.ROOT, ", %.0f records/s", job.recordsPerSecond()));
    }
    return line.toString();
  }

  private static void printResult(PrintWriter out, IngestionJob job) {
    if (job.files() != null && !job.files().isEmpty()) {
      Table table = new Table("FILE", "NAME", "STATE", "READ", "WRITTEN", "FAILED", "SIZE", "ERROR").right(3, 4, 5, 6);
      for (IngestionJob.JobFile file : job.files()) {
        RecordCounts records = Objects.requireNonNullElse(file.records(), RecordCounts.NONE);
        table.row(file.id(), file.name(), file.state(), records.read(), records.written(), records.failed(),
            Sizes.format(file.bytes()), file.error());
      }
      table.print(out);
      out.println();
    }
    RecordCounts records = Objects.requireNonNullElse(job.records(), RecordCounts.NONE);
    out.printf(
        Locale.ROOT,
        "job %s %s: records read %d, written %d, failed %d; %s in %s (%.0f records/s)%n",
        job.id(),
        job.state(),
        records.read(),
        records.written(),
        records.failed(),
        Sizes.format(job.bytes()),
        Durations.format(Duration.ofMillis(job.elapsedMillis())),
        job.recordsPerSecond());
    if (job.error() != null) {
      out.println("error: " + job.error());
    }
    out.flush();
  }
}
