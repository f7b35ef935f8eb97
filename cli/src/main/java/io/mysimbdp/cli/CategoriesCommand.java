package io.mysimbdp.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mysimbdp categories list|get|put|delete}: which function and collection a category's records go through. */
@Command(
    name = "categories",
    mixinStandardHelpOptions = true,
    description = "Maps a category (of uploaded files or sent records; * for every unmapped one) to a function and a collection.",
    subcommands = {CategoriesCommand.List.class, CategoriesCommand.Get.class, CategoriesCommand.Put.class, CategoriesCommand.Delete.class})
final class CategoriesCommand {
  static String path(String category) {
    return "categories/" + PlatformClient.encode(category);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Every mapping.")
  static final class List implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).getJson("categories"));
      return 0;
    }
  }

  @Command(name = "get", mixinStandardHelpOptions = true, description = "One category's mapping.")
  static final class Get implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CATEGORY")
    String category;

    @Override
    public Integer call() throws Exception {
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).getJson(path(category)));
      return 0;
    }
  }

  @Command(name = "put", mixinStandardHelpOptions = true, description = "Maps CATEGORY to --function and --collection.")
  static final class Put implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CATEGORY", description = "the category, or * for every unmapped one")
    String category;

    @Option(names = "--function", paramLabel = "NAME", description = "the function its records go through (none: stored as they are)")
    String function;

    @Option(names = "--collection", paramLabel = "NAME", description = "the collection they are stored in")
    String collection;

    @Override
    public Integer call() throws Exception {
      ObjectNode body = Json.object();
      if (function != null) {
        body.put("function", function);
      }
      if (collection != null) {
        body.put("collection", collection);
      }
      Json.pretty(spec.commandLine().getOut(), Commands.client(spec).call("PUT", path(category), "application/json", Json.bytes(body)));
      return 0;
    }
  }

  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Removes CATEGORY's mapping.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(index = "0", paramLabel = "CATEGORY")
    String category;

    @Override
    public Integer call() throws Exception {
      Commands.client(spec).call("DELETE", path(category), null, null);
      spec.commandLine().getOut().println("deleted category " + category);
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
