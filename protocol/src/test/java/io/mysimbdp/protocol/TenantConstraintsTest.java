package io.mysimbdp.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import java.util.List;
import org.junit.jupiter.api.Test;

class TenantConstraintsTest {

  @Test
  void readsTheSeedsYamlKeys() throws Exception {
    TenantConstraints c =
        ProtocolJson.YAML.readValue(
            "max_number_files: 10\nmax_size_file_in_megabytes: 50\nformat_data: csv\n", TenantConstraints.class);
    assertEquals(new TenantConstraints(10, 50L, List.of("csv")), c);
    assertTrue(c.problems().isEmpty());
  }

  @Test
  void readsClearNamesAndListsInJson() throws Exception {
    TenantConstraints c =
        ProtocolJson.JSON.readValue(
            "{\"maxFiles\":1,\"maxFileSizeMegabytes\":2,\"formats\":[\"CSV\",\"jsonl\",\"csv\"]}", TenantConstraints.class);
    assertEquals(List.of("csv", "jsonl"), c.formats());
    TenantConstraints merged = c.withDefaults(new TenantConstraints(5, 5L, List.of("json")));
    assertEquals(List.of("csv", "ndjson"), merged.formats(), "aliases are stored under the canonical id");
  }

  @Test
  void namesEveryProblem() {
    List<String> problems = new TenantConstraints(-1, 0L, List.of("exe")).problems();
    assertEquals(3, problems.size(), problems::toString);
    assertTrue(problems.get(0).contains("maxFiles"));
    assertTrue(problems.get(1).contains("maxFileSizeMegabytes"));
    assertTrue(problems.get(2).contains("'exe'"));
  }

  @Test
  void unknownKeysFail() {
    assertThrows(
        UnrecognizedPropertyException.class,
        () -> ProtocolJson.YAML.readValue("max_files: 3\n", TenantConstraints.class));
  }

  @Test
  void missingFieldsTakeDefaults() {
    TenantConstraints defaults = new TenantConstraints(100, 2048L, List.of("csv", "json"));
    assertEquals(new TenantConstraints(7, 2048L, List.of("csv", "json")), new TenantConstraints(7, null, null).withDefaults(defaults));
  }
}
