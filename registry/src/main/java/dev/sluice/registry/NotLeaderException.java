package dev.sluice.registry;

/** A write conditioned on leadership was refused: the writer does not (or no longer) lead. */
public final class NotLeaderException extends RegistryException {
  private static final long serialVersionUID = 1L;

  public NotLeaderException(String message) {
    super(message);
  }
}
