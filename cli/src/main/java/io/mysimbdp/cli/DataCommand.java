package io.mysimbdp.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mysimbdp data COLLECTION}: the tenant's stored records, one JSON object a line. */
@Command(
    name = "data",
    mixinStandardHelpOptions = true,
    description = "Prints your stored records of COLLECTION (default records), one JSON object a line (for jq);"
        + " the cursor of the next page goes to standard error.")
final class DataCommand implements Callable<Integer> {
  @Spec CommandSpec spec;

  @Parameters(index = "0", paramLabel = "COLLECTION", defaultValue = "records", arity = "0..1")
  String collection;

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
    String path = "data/" + PlatformClient.encode(collection) + "?limit=" + limit;
    Commands.printPages(spec, Commands.client(spec), path, after, all);
    return 0;
  }
}
