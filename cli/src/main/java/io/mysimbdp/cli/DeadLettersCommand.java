package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code mysimbdp dead-letters list|replay}: records that could not be ingested, and running them again. */
@Command(
    name = "dead-letters",
    mixinStandardHelpOptions = true,
    description = "Records that could not be ingested (with file, line, stage and reason), and replaying those that failed"
        + " under a function once you fixed it.",
    subcommands = {DeadLettersCommand.List.class, DeadLettersCommand.Replay.class})
final class DeadLettersCommand {

  @Command(
      name = "list",
      mixinStandardHelpOptions = true,
      description = "Prints dead letters, one JSON object a line (for jq); the cursor of the next page goes to standard error.")
  static final class List implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--stage", paramLabel = "STAGE", description = "only this stage (parse, function, quality, store, ...)")
    String stage;

    @Option(names = "--source", paramLabel = "SOURCE", description = "only this source (a file id, or stream)")
    String source;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "100", description = "per page (default ${DEFAULT-VALUE})")
    int limit;

    @Option(names = "--after", paramLabel = "CURSOR", description = "the page after this cursor (the previous page's next)")
    String after;

    @Option(names = "--all", description = "follow the pages to the end")
    boolean all;

    @Override
    public Integer call() throws Exception {
      if (limit < 1) {
        throw new ParameterException(spec.commandLine(), "--limit must be positive");
      }
      StringBuilder query = new StringBuilder("dead-letters?limit=").append(limit);
      append(query, "stage", stage);
      append(query, "source", source);
      if (Commands.printPages(spec, Commands.client(spec), query.toString(), after, all) == 0) {
        spec.commandLine().getErr().println("no dead letters");
        spec.commandLine().getErr().flush();
      }
      return 0;
    }
  }

  @Command(
      name = "replay",
      mixinStandardHelpOptions = true,
      description = {
        "Runs dead letters of --stage (function) again through the category's current function: those that are stored"
            + " leave the dead letters, those that fail again stay. Safe to repeat: a record is never stored twice.",
        "Goes on until none remain or a round makes no progress."
      })
  static final class Replay implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--stage", paramLabel = "STAGE", defaultValue = "function", description = "the stage to replay (default ${DEFAULT-VALUE})")
    String stage;

    @Option(names = "--source", paramLabel = "SOURCE", description = "only this source (a file id, or stream)")
    String source;

    @Option(names = "--limit", paramLabel = "N", description = "at most N records per round (the platform's default otherwise)")
    Integer limit;

    @Override
    public Integer call() throws Exception {
      PlatformClient client = Commands.client(spec);
      PrintWriter out = spec.commandLine().getOut();
      ObjectNode body = Json.object().put("stage", stage);
      if (source != null) {
        body.put("source", source);
      }
      if (limit != null) {
        body.put("limit", limit);
      }
      long replayed = 0;
      long stored = 0;
      long failedAgain = 0;
      long remaining;
      long before = Long.MAX_VALUE;
      int rounds = 0;
      while (true) {
        JsonNode answer = client.call("POST", "dead-letters/replay", "application/json", Json.bytes(body));
        rounds++;
        long roundReplayed = answer.path("replayed").asLong();
        long roundStored = answer.path("stored").asLong();
        replayed += roundReplayed;
        stored += roundStored;
        failedAgain += answer.path("failedAgain").asLong();
        remaining = answer.path("remaining").asLong();
        out.println("round " + rounds + ": replayed " + roundReplayed + ", stored " + roundStored + ", failed again "
            + answer.path("failedAgain").asLong() + ", remaining " + remaining);
        out.flush();
        // Done when none remain; stuck when a round replays nothing or stores nothing and leaves as many.
        if (remaining == 0 || roundReplayed == 0 || (roundStored == 0 && remaining >= before)) {
          break;
        }
        before = remaining;
      }
      out.println("replayed " + replayed + ", stored " + stored + ", failed again " + failedAgain + ", remaining " + remaining);
      out.flush();
      return 0;
    }
  }

  static void append(StringBuilder query, String name, String value) {
    if (value != null) {
      query.append('&').append(name).append('=').append(PlatformClient.encode(value));
    }
  }
}
