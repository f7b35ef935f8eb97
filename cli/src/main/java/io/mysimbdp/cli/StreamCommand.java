package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mysimbdp stream start|stop|status}: the tenant's stream consumer. */
@Command(
    name = "stream",
    mixinStandardHelpOptions = true,
    description = "Your stream consumer: start it, stop it (in-flight messages are stored and acked first), see its status.",
    subcommands = {StreamCommand.Start.class, StreamCommand.Stop.class, StreamCommand.Status.class})
final class StreamCommand {

  /** Prints a stream status answer: fields, or the raw JSON. */
  static int print(CommandSpec spec, JsonNode status, boolean json) {
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      Json.pretty(out, status);
    } else {
      Json.fields(out, status);
    }
    return 0;
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Starts consuming your queue (POST stream/start); remembered across restarts and moves.")
  static final class Start implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "print the platform's JSON answer")
    boolean json;

    @Override
    public Integer call() throws Exception {
      return print(spec, Commands.client(spec).call("POST", "stream/start", null, null), json);
    }
  }

  @Command(name = "stop", mixinStandardHelpOptions = true, description = "Stops consuming (POST stream/stop) once the in-flight messages are stored and acked.")
  static final class Stop implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "print the platform's JSON answer")
    boolean json;

    @Override
    public Integer call() throws Exception {
      return print(spec, Commands.client(spec).call("POST", "stream/stop", null, null), json);
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = "State, consumed, stored, duplicates, failed, lag (records waiting), latency p50/p99, prefetch (GET stream).")
  static final class Status implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "print the platform's JSON answer")
    boolean json;

    @Override
    public Integer call() throws Exception {
      return print(spec, Commands.client(spec).getJson("stream"), json);
    }
  }
}
