package io.mysimbdp.cli;

import io.mysimbdp.protocol.ProtocolJson;
import io.mysimbdp.protocol.TenantConstraints;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code mysimbdp constraints}: what the tenant may upload. */
@Command(name = "constraints", mixinStandardHelpOptions = true, description = "Prints your constraints: max files, max file size, formats.")
final class ConstraintsCommand implements Callable<Integer> {
  @ParentCommand Mysimbdp root;
  @Spec CommandSpec spec;

  @Option(names = "--json", description = "print the platform's JSON answer")
  boolean json;

  @Override
  public Integer call() throws Exception {
    PlatformClient client = root.client(spec);
    TenantConstraints constraints = client.constraints();
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(ProtocolJson.JSON.writeValueAsString(constraints));
    } else {
      out.println("tenant:       " + client.tenant());
      out.println("max files:    " + constraints.maxFiles());
      out.println("max size:     " + constraints.maxFileSizeMegabytes() + " MiB per file");
      out.println("formats:      " + (constraints.formats() == null ? "" : String.join(", ", constraints.formats())));
    }
    out.flush();
    return 0;
  }
}
