package dev.sluice.registry;

/** The registry could not carry out an operation; the message names the registry problem. */
public class RegistryException extends Exception {
  private static final long serialVersionUID = 1L;

  public RegistryException(String message) {
    super(message);
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
