package dev.floe.cli.serve;

/**
 * An error answered in OpenAI's shape: {@code {"error":{"message","type","param","code"}}} with an HTTP status.
 *
 * @param status  HTTP status
 * @param type    OpenAI error type, e.g. {@code invalid_request_error}
 * @param param   the offending request field, or null
 * @param code    a machine-readable code, or null
 */
final class ApiError extends RuntimeException {
    final int status;
    final String type;
    final String param;
    final String code;

    ApiError(int status, String type, String message, String param, String code) {
        super(message);
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
    }

    static ApiError invalid(String message, String param) {
        return new ApiError(400, "invalid_request_error", message, param, null);
    }

    static ApiError invalid(String message, String param, String code) {
        return new ApiError(400, "invalid_request_error", message, param, code);
    }
}
