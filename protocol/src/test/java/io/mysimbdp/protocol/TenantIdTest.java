package io.mysimbdp.protocol;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TenantIdTest {

  @Test
  void acceptsSimpleIds() {
    for (String id : List.of("alice", "bob-2", "t_1", "0day", "a".repeat(TenantId.MAX_LENGTH))) {
      assertTrue(TenantId.isValid(id), id);
    }
  }

  @Test
  void rejectsWhatCouldEscapeANameOrPath() {
    for (String id :
        List.of("", "a/b", "..", ".", "a b", "A", "a.b", "-a", "_a", "a$", "a\u0000", "é", "a".repeat(TenantId.MAX_LENGTH + 1), "x".repeat(300))) {
      assertFalse(TenantId.isValid(id), id);
      assertFalse(TenantId.problem(id).orElseThrow().isBlank());
    }
    assertFalse(TenantId.isValid(null));
  }
}
