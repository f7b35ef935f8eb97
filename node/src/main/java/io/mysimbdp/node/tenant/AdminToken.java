package io.mysimbdp.node.tenant;

import com.typesafe.config.Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The admin token: from {@code MYSIMBDP_ADMIN_TOKEN}, from a mounted file, or generated on first
 * start and kept in {@code <data-dir>/admin-token} (owner-only), so a restarted node keeps it.
 */
public final class AdminToken {
  private static final Logger log = LoggerFactory.getLogger(AdminToken.class);
  public static final String FILE_NAME = "admin-token";
  private static final int MIN_LENGTH = 16;

  private AdminToken() {}

  /** Resolves the token; called once at start-up, before the actor system exists (it may block). */
  public static String resolve(Config config, Path dataDir) throws IOException {
    Config c = config.getConfig("mysimbdp");
    if (c.hasPath("admin-token") && !c.getString("admin-token").isBlank()) {
      return checked(c.getString("admin-token").trim(), "MYSIMBDP_ADMIN_TOKEN");
    }
    if (c.hasPath("admin-token-file") && !c.getString("admin-token-file").isBlank()) {
      Path file = Path.of(c.getString("admin-token-file"));
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    }
    Path file = dataDir.resolve(FILE_NAME);
    if (Files.exists(file)) {
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    }
    String token = ApiKeys.generate().replace(ApiKeys.PREFIX, "mat_");
    Files.createDirectories(dataDir);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(Set.of(
          java.nio.file.attribute.PosixFilePermission.OWNER_READ,
          java.nio.file.attribute.PosixFilePermission.OWNER_WRITE)));
    } catch (UnsupportedOperationException e) {
      Files.createFile(file);
    } catch (FileAlreadyExistsException e) {
      // Another node sharing this data dir won the race: use its token.
      return checked(Files.readString(file, StandardCharsets.UTF_8).trim(), file.toString());
    }
    Files.writeString(file, token + "\n", StandardCharsets.UTF_8);
    // Printed once, on the console a human started the node from; never logged again.
    System.out.println("mysimbdp admin token (stored in " + file.toAbsolutePath() + "): " + token);
    log.info("generated a new admin token in {}", file.toAbsolutePath());
    return token;
  }

  private static String checked(String token, String source) {
    if (token.length() < MIN_LENGTH) {
      throw new IllegalArgumentException(
          "the admin token from " + source + " is shorter than " + MIN_LENGTH + " characters");
    }
    return token;
  }
}
