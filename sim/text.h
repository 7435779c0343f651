/* text: terminal output helpers of the CLI. */
#ifndef EKV_TEXT_H
#define EKV_TEXT_H

/* Prints s to stdout padded with spaces to `width` display columns (counts UTF-8 code
 * points, so "São Paulo" lines up with ASCII names). */
void ekv_text_pad(const char *s, int width);

#endif
