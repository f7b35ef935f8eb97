package io.mysimbdp.node.embedded;

import de.bwaldvogel.mongo.MongoBackend;
import de.bwaldvogel.mongo.MongoDatabase;
import de.bwaldvogel.mongo.MongoVersion;
import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import io.netty.channel.Channel;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * One MongoDB-wire-protocol backend over several, each database living in exactly one of them
 * (chosen by a stable hash of its name). Each part is an H2 store of its own, so a commit visits
 * only the maps of the databases hashed to it — with every tenant's collections in one store, a
 * commit visited all of them and a write cost 6.6 ms at 8,000 tenants.
 *
 * <p>Every command names its database; commands on {@code admin} that are not about one database
 * go to the first part, except {@code listDatabases}, answered from all. Cursors live in the part
 * of the database they read, and {@code getMore} / {@code killCursors} are sent to that database.
 * Nothing the platform does spans two databases in one command.
 */
final class DatabaseRoutingBackend implements MongoBackend {
  private static final String ADMIN = "admin";

  private final List<? extends MongoBackend> parts;

  DatabaseRoutingBackend(List<? extends MongoBackend> parts) {
    if (parts.isEmpty()) {
      throw new IllegalArgumentException("no backends");
    }
    this.parts = List.copyOf(parts);
  }

  /** The index of the part holding {@code databaseName}; stable across restarts (String.hashCode is specified). */
  static int partOf(String databaseName, int parts) {
    return Math.floorMod(databaseName.hashCode(), parts);
  }

  private MongoBackend partFor(String databaseName) {
    return parts.get(partOf(databaseName, parts.size()));
  }

  @Override
  public Document handleCommand(Channel channel, String databaseName, String command, Document query) {
    if (ADMIN.equals(databaseName)) {
      if ("listDatabases".equalsIgnoreCase(command)) {
        return listDatabases(channel, command, query);
      }
      return parts.get(0).handleCommand(channel, databaseName, command, query);
    }
    return partFor(databaseName).handleCommand(channel, databaseName, command, query);
  }

  @Override
  public Document handleMessage(MongoMessage message) {
    String databaseName = message.getDatabaseName();
    String command = message.getDocument().keySet().iterator().next();
    if (ADMIN.equals(databaseName)) {
      if ("listDatabases".equalsIgnoreCase(command)) {
        return listDatabases(message.getChannel(), command, message.getDocument());
      }
      return parts.get(0).handleMessage(message);
    }
    return partFor(databaseName).handleMessage(message);
  }

  @SuppressWarnings("unchecked")
  private Document listDatabases(Channel channel, String command, Document query) {
    Document answer = null;
    List<Object> databases = new ArrayList<>();
    for (MongoBackend part : parts) {
      Document partAnswer = part.handleCommand(channel, ADMIN, command, query);
      databases.addAll((Collection<Object>) partAnswer.get("databases"));
      if (answer == null) {
        answer = partAnswer;
      }
    }
    answer.put("databases", databases);
    return answer;
  }

  @Override
  public QueryResult handleQuery(MongoQuery query) {
    return partFor(query.getDatabaseName()).handleQuery(query);
  }

  @Override
  public void handleClose(Channel channel) {
    parts.forEach(part -> part.handleClose(channel));
  }

  @Override
  public void dropDatabase(String databaseName) {
    partFor(databaseName).dropDatabase(databaseName);
  }

  @Override
  public Collection<Document> getCurrentOperations(MongoQuery query) {
    return parts.get(0).getCurrentOperations(query);
  }

  @Override
  public Document getServerStatus() {
    return parts.get(0).getServerStatus();
  }

  @Override
  public void close() {
    RuntimeException failure = null;
    for (MongoBackend part : parts) {
      try {
        part.close();
      } catch (RuntimeException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }

  @Override
  public void closeCursors(List<Long> cursorIds) {
    parts.forEach(part -> part.closeCursors(cursorIds));
  }

  @Override
  public Clock getClock() {
    return parts.get(0).getClock();
  }

  @Override
  public void enableOplog() {
    parts.forEach(MongoBackend::enableOplog);
  }

  @Override
  public void disableOplog() {
    parts.forEach(MongoBackend::disableOplog);
  }

  @Override
  public MongoDatabase resolveDatabase(String databaseName) {
    return partFor(databaseName).resolveDatabase(databaseName);
  }

  @Override
  public MongoBackend version(MongoVersion version) {
    parts.forEach(part -> part.version(version));
    return this;
  }
}
