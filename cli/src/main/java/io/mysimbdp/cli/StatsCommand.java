package io.mysimbdp.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code mysimbdp stats}: live figures from the tenant's ingestor. */
@Command(
    name = "stats",
    mixinStandardHelpOptions = true,
    description = "Live figures from your ingestor: counts since it started on its node, throughput over 10 s and 60 s, latency, the last report.")
final class StatsCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "print the platform's JSON answer")
  boolean json;

  @Override
  public Integer call() throws Exception {
    var answer = Commands.client(spec).getJson("stats");
    if (json) {
      Json.pretty(spec.commandLine().getOut(), answer);
    } else {
      Json.fields(spec.commandLine().getOut(), answer);
    }
    return 0;
  }
}
