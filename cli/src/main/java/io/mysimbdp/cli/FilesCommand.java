package io.mysimbdp.cli;

import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.StagedFile;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mysimbdp files [list]} and {@code files delete FILE_ID...}: the tenant's staged files. */
@Command(
    name = "files",
    mixinStandardHelpOptions = true,
    description = "Lists your staged files (files, or files list); files delete removes files and frees their slots.",
    subcommands = {FilesCommand.ListFiles.class, FilesCommand.Delete.class})
final class FilesCommand implements Callable<Integer> {
  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "print the platform's JSON answer instead of a table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    return list(spec, json);
  }

  static int list(CommandSpec spec, boolean json) throws Exception {
    FileList list = Commands.client(spec).files();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(ProtocolJson.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(list));
      out.flush();
      return 0;
    }
    Table table = new Table("ID", "NAME", "CATEGORY", "FORMAT", "SIZE", "STATE", "UPLOADED").right(4);
    for (StagedFile file : list.files()) {
      table.row(file.id(), file.name(), file.category(), file.format(), Sizes.format(file.size()), file.state(), file.uploadedAt());
    }
    if (!table.isEmpty()) {
      table.print(out);
    }
    out.println(list.count() + " of " + list.maxFiles() + " file slots used");
    out.flush();
    return 0;
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Lists your staged files.")
  static final class ListFiles implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "print the platform's JSON answer instead of a table")
    boolean json;

    @Override
    public Integer call() throws Exception {
      return list(spec, json);
    }
  }

  @Command(
      name = "delete",
      mixinStandardHelpOptions = true,
      description = "Deletes staged files (not while they are being ingested) and frees their slots; exit 1 if one could not be.")
  static final class Delete implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "FILE_ID", description = "ids as files lists them")
    List<String> ids;

    @Override
    public Integer call() throws Exception {
      PlatformClient client = Commands.client(spec);
      PrintWriter out = spec.commandLine().getOut();
      PrintWriter err = spec.commandLine().getErr();
      int failed = 0;
      for (String id : ids) {
        try {
          client.deleteFile(id);
          out.println("deleted " + id);
        } catch (PlatformException e) {
          failed++;
          err.println("error: " + id + ": " + e.status() + " " + e.describe());
        }
        out.flush();
        err.flush();
      }
      return failed > 0 ? 1 : 0;
    }
  }
}
