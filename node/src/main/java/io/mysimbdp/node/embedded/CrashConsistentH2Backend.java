package io.mysimbdp.node.embedded;

import de.bwaldvogel.mongo.backend.QueryResult;
import de.bwaldvogel.mongo.backend.h2.H2Backend;
import de.bwaldvogel.mongo.bson.Document;
import de.bwaldvogel.mongo.wire.message.MongoMessage;
import de.bwaldvogel.mongo.wire.message.MongoQuery;
import io.netty.channel.Channel;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Supplier;
import org.h2.mvstore.MVStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded store's H2 backend, made crash-consistent. Left alone, H2 commits its file in the
 * background at any moment, also halfway through one MongoDB command (a document written, its
 * index entry not yet); after a {@code kill -9} the store then holds a document its {@code _id}
 * index does not know, and every later insert of that id fails. Here commits happen only between
 * commands: each command holds a read lock, and a commit every {@value #COMMIT_INTERVAL_MS} ms (and
 * at close) takes the write lock. A crash loses at most that interval, never half a command.
 */
final class CrashConsistentH2Backend extends H2Backend {
  private static final Logger log = LoggerFactory.getLogger(CrashConsistentH2Backend.class);
  static final long COMMIT_INTERVAL_MS = 200;

  private final ReentrantReadWriteLock commandsAndCommits = new ReentrantReadWriteLock(true);
  private final ScheduledExecutorService committer =
      Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "embedded-mongodb-commit");
        thread.setDaemon(true);
        return thread;
      });

  private CrashConsistentH2Backend(MVStore store) {
    super(store);
    committer.scheduleWithFixedDelay(this::commitBetweenCommands, COMMIT_INTERVAL_MS, COMMIT_INTERVAL_MS, TimeUnit.MILLISECONDS);
  }

  static CrashConsistentH2Backend open(String file) {
    return new CrashConsistentH2Backend(new MVStore.Builder().fileName(file).autoCommitDisabled().open());
  }

  private void commitBetweenCommands() {
    commandsAndCommits.writeLock().lock();
    try {
      commit();
    } catch (RuntimeException e) {
      log.error("embedded MongoDB store: commit failed", e);
    } finally {
      commandsAndCommits.writeLock().unlock();
    }
  }

  private <T> T command(Supplier<T> body) {
    commandsAndCommits.readLock().lock();
    try {
      return body.get();
    } finally {
      commandsAndCommits.readLock().unlock();
    }
  }

  @Override
  public Document handleCommand(Channel channel, String database, String command, Document query) {
    return command(() -> super.handleCommand(channel, database, command, query));
  }

  @Override
  public QueryResult handleQuery(MongoQuery query) {
    return command(() -> super.handleQuery(query));
  }

  @Override
  public Document handleMessage(MongoMessage message) {
    return command(() -> super.handleMessage(message));
  }

  @Override
  public void close() {
    committer.shutdownNow();
    commandsAndCommits.writeLock().lock();
    try {
      commit();
      super.close();
    } finally {
      commandsAndCommits.writeLock().unlock();
    }
  }
}
