package io.mysimbdp.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Shows how uploads go: on a terminal, a live progress bar per running upload plus a total bar,
 * redrawn in place; otherwise one plain line per finished file (and per resume), for logs and pipes.
 */
abstract class UploadProgress implements AutoCloseable {

  /** One file's upload. Calls may come from any thread. */
  interface Task extends PlatformClient.TransferListener {
    void succeeded(String message);

    /** Not uploaded, and rightly so (the platform has the same content). */
    void skipped(String message);

    void failed(String message);
  }

  abstract Task start(String name, long size);

  @Override
  public abstract void close();

  static UploadProgress create(PrintWriter out, boolean terminal, long totalBytes) {
    return terminal ? new Bars(out, totalBytes) : new Lines(out);
  }

  /** A line per event. */
  private static final class Lines extends UploadProgress {
    private final PrintWriter out;

    Lines(PrintWriter out) {
      this.out = out;
    }

    @Override
    Task start(String name, long size) {
      return new Task() {
        @Override
        public void transferred(long bytes) {}

        @Override
        public void resuming(long offset, String reason) {
          print("resuming  " + name + " at " + Sizes.format(offset) + " (" + reason + ")");
        }

        @Override
        public void succeeded(String message) {
          print("uploaded  " + name + "  " + message);
        }

        @Override
        public void skipped(String message) {
          print("skipped   " + name + "  " + message);
        }

        @Override
        public void failed(String message) {
          print("FAILED    " + name + "  " + message);
        }
      };
    }

    private synchronized void print(String line) {
      out.println(line);
      out.flush();
    }

    @Override
    public void close() {}
  }

  /** Bars redrawn in place with ANSI cursor movement, by one thread, ten times a second. */
  private static final class Bars extends UploadProgress {
    private static final int BAR = 20;
    private final PrintWriter out;
    private final long totalBytes;
    private final Map<String, Running> running = new LinkedHashMap<>();
    private final List<String> finishedLines = new ArrayList<>();
    private final AtomicLong finishedBytes = new AtomicLong();
    private final long started = System.nanoTime();
    private final Thread renderer;
    private int drawn;
    private volatile boolean closed;
    private final int columns = columns();

    private record Running(String name, long size, AtomicLong done) {}

    Bars(PrintWriter out, long totalBytes) {
      this.out = out;
      this.totalBytes = totalBytes;
      this.renderer = new Thread(this::renderLoop, "mysimbdp-progress");
      renderer.setDaemon(true);
      renderer.start();
    }

    @Override
    Task start(String name, long size) {
      Running task = new Running(name, size, new AtomicLong());
      synchronized (this) {
        running.put(name, task);
      }
      return new Task() {
        @Override
        public void transferred(long bytes) {
          task.done.set(bytes);
        }

        @Override
        public void resuming(long offset, String reason) {
          finish(null, "resuming  " + name + " at " + Sizes.format(offset) + " (" + reason + ")");
        }

        @Override
        public void succeeded(String message) {
          finishedBytes.addAndGet(size);
          finish(name, "uploaded  " + name + "  " + message);
        }

        @Override
        public void skipped(String message) {
          finishedBytes.addAndGet(size);
          finish(name, "skipped   " + name + "  " + message);
        }

        @Override
        public void failed(String message) {
          finish(name, "FAILED    " + name + "  " + message);
        }
      };
    }

    private synchronized void finish(String name, String line) {
      if (name != null) {
        running.remove(name);
      }
      finishedLines.add(line);
    }

    private void renderLoop() {
      while (!closed) {
        render();
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          return;
        }
      }
    }

    private synchronized void render() {
      StringBuilder frame = new StringBuilder();
      if (drawn > 0) {
        frame.append("\033[").append(drawn).append('F');
      }
      frame.append("\033[J");
      for (String line : finishedLines) {
        frame.append(line).append('\n');
      }
      finishedLines.clear();
      long inFlight = 0;
      for (Running task : running.values()) {
        inFlight += task.done.get();
        frame.append(bar(task.name, task.done.get(), task.size)).append('\n');
      }
      frame.append(bar("total", finishedBytes.get() + inFlight, totalBytes)).append('\n');
      drawn = running.size() + 1;
      out.print(frame);
      out.flush();
    }

    private String bar(String name, long done, long size) {
      // A line wider than the terminal wraps and breaks the redraw: fit it (80 columns unless told).
      int nameWidth = Math.max(12, Math.min(40, columns - 59));
      String label = name.length() > nameWidth ? "..." + name.substring(name.length() - nameWidth + 3) : name;
      double fraction = size <= 0 ? 1 : Math.min(1, (double) done / size);
      int filled = (int) Math.round(fraction * BAR);
      double seconds = Math.max(1e-3, (System.nanoTime() - started) / 1e9);
      String rate = name.equals("total") ? " " + Sizes.format((long) (done / seconds)) + "/s" : "";
      String line =
          String.format(
              Locale.ROOT,
              "%-" + nameWidth + "s [%s%s] %3.0f%% %s/%s%s",
              label,
              "#".repeat(filled),
              "-".repeat(BAR - filled),
              fraction * 100,
              Sizes.format(done),
              Sizes.format(size),
              rate);
      return line.length() < columns ? line : line.substring(0, columns - 1);
    }

    private static int columns() {
      try {
        return Math.max(40, Integer.parseInt(System.getenv().getOrDefault("COLUMNS", "80").trim()));
      } catch (NumberFormatException e) {
        return 80;
      }
    }

    @Override
    public void close() {
      closed = true;
      renderer.interrupt();
      try {
        renderer.join(1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      render();
    }
  }
}
