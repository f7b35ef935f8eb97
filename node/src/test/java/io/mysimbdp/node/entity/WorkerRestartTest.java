package io.mysimbdp.node.entity;

import static org.junit.jupiter.api.Assertions.assertEquals;

import akka.actor.testkit.typed.javadsl.ActorTestKit;
import akka.actor.testkit.typed.javadsl.ManualTime;
import akka.actor.testkit.typed.javadsl.TestProbe;
import akka.actor.typed.ActorRef;
import akka.actor.typed.Behavior;
import akka.actor.typed.javadsl.Behaviors;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A tenant's worker that throws is restarted by its entity after a growing pause, with what was
 * sent to it meanwhile kept, instead of the whole tenant stopping until its next wake.
 */
class WorkerRestartTest {
  private final ActorTestKit testKit = ActorTestKit.create(ManualTime.config());
  private final ManualTime time = ManualTime.get(testKit.system());

  @AfterEach
  void stop() {
    testKit.shutdownTestKit();
  }

  sealed interface Work permits Fail, Ask {}

  record Fail() implements Work {}

  record Ask(ActorRef<Integer> replyTo) implements Work {}

  /** Answers asks with its incarnation (1 for the first start); throws on {@link Fail}. */
  private static Behavior<Work> worker(AtomicInteger starts) {
    return Behaviors.setup(context -> {
      int incarnation = starts.incrementAndGet();
      return Behaviors.receive(Work.class)
          .onMessage(Ask.class, ask -> {
            ask.replyTo().tell(incarnation);
            return Behaviors.same();
          })
          .onMessage(Fail.class, fail -> {
            throw new IllegalStateException("worker failed (test)");
          })
          .build();
    });
  }

  @Test
  void aFailingWorkerStartsAgainAfterAGrowingPauseKeepingItsMessages() {
    AtomicInteger starts = new AtomicInteger();
    ActorRef<Work> worker = testKit.spawn(TenantIngestor.restartedWithBackoff(worker(starts)));
    TestProbe<Integer> probe = testKit.createTestProbe();
    worker.tell(new Ask(probe.getRef()));
    assertEquals(1, probe.receiveMessage());

    worker.tell(new Fail());
    worker.tell(new Ask(probe.getRef()));
    // Kept during the pause (1 s, ±20 %), answered by the restarted worker once it is over.
    time.expectNoMessageFor(Duration.ofMillis(700), probe);
    time.timePasses(Duration.ofMillis(600));
    assertEquals(2, probe.receiveMessage());

    // Failing again at once: the second pause is longer (2 s, ±20 %).
    worker.tell(new Fail());
    worker.tell(new Ask(probe.getRef()));
    time.expectNoMessageFor(Duration.ofMillis(1500), probe);
    time.timePasses(Duration.ofMillis(1000));
    assertEquals(3, probe.receiveMessage());
  }
}
