package io.mysimbdp.cli;

import io.mysimbdp.protocol.FileList;
import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.StagedFile;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mysimbdp files}: the tenant's staged files as a table. */
@Command(name = "files", mixinStandardHelpOptions = true, description = "Lists your staged files.")
final class FilesCommand implements Callable<Integer> {
  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "print the platform's JSON answer instead of a table")
  boolean json;

  @Override
  public Integer call() throws Exception {
    FileList list = root.client(spec).files();
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
}
