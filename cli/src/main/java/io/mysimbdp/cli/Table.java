package io.mysimbdp.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain text table: columns padded to their widest cell, right-aligned where asked. */
final class Table {
  private final String[] headers;
  private final boolean[] rightAligned;
  private final List<String[]> rows = new ArrayList<>();

  Table(String... headers) {
    this.headers = headers;
    this.rightAligned = new boolean[headers.length];
  }

  /** Aligns these columns (0-based) to the right, as numbers are. */
  Table right(int... columns) {
    for (int column : columns) {
      rightAligned[column] = true;
    }
    return this;
  }

  Table row(Object... cells) {
    String[] row = new String[headers.length];
    for (int i = 0; i < headers.length; i++) {
      row[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
    }
    rows.add(row);
    return this;
  }

  boolean isEmpty() {
    return rows.isEmpty();
  }

  void print(PrintWriter out) {
    int[] widths = new int[headers.length];
    for (int i = 0; i < headers.length; i++) {
      widths[i] = headers[i].length();
      for (String[] row : rows) {
        widths[i] = Math.max(widths[i], row[i].length());
      }
    }
    line(out, headers, widths);
    for (String[] row : rows) {
      line(out, row, widths);
    }
    out.flush();
  }

  private void line(PrintWriter out, String[] cells, int[] widths) {
    StringBuilder line = new StringBuilder();
    for (int i = 0; i < cells.length; i++) {
      if (i > 0) {
        line.append("  ");
      }
      String pad = " ".repeat(widths[i] - cells[i].length());
      boolean last = i == cells.length - 1;
      if (rightAligned[i]) {
        line.append(pad).append(cells[i]);
      } else {
        line.append(cells[i]).append(last ? "" : pad);
      }
    }
    out.println(line.toString().stripTrailing());
  }
}
