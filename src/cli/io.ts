export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

export const processIo: CliIo = {
  stdout: (text) => void process.stdout.write(text.endsWith('\n') ? text : text + '\n'),
  stderr: (text) => void process.stderr.write(text.endsWith('\n') ? text : text + '\n'),
};

export type CommandModule = { run(args: string[], io: CliIo): Promise<number> };
